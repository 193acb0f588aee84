"""Payments behind a small provider interface, and the signed events that settle them.

Two providers, chosen by ``PAYMENT_PROVIDER`` (portal/config.py):

* ``TestProvider`` ("test"): the built-in provider of the embedded default
  and the demo. Its checkout page is ours (``enrollment.checkout``), clearly
  marked as test mode; its Pay and Decline buttons build a real signed event
  and hand it to ``receive()``, the very function the webhook calls, so every
  test payment also proves the webhook path. Production refuses it
  (``config.check``).
* ``HostedProvider`` ("hosted"): a real processor. The student is sent to
  ``PAYMENT_CHECKOUT_URL`` (with ``{checkout_id}``), and the processor
  reports back through ``POST /payments/webhook`` with a signed event.

Signing follows Stripe's scheme. The header is::

    Portal-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>." + body>

with the shared ``PAYMENT_WEBHOOK_SECRET``. ``verify()`` compares in constant
time (``hmac.compare_digest``), accepts any of several ``v1`` values (a
processor rotating its secret sends two), and refuses a timestamp more than
``PAYMENT_WEBHOOK_TOLERANCE`` seconds from now in either direction, so a
captured delivery cannot be replayed later. Within the window, a replay is
harmless anyway: ``apply_payment_event()`` records each event id once and
answers ``duplicate`` the second time.

An event is JSON::

    {"id": "<event id>", "type": "payment.succeeded" | "payment.failed" | "refund.succeeded",
     "data": {"checkout_id": "<uuid>", "reason": "<why it failed, optional>",
              "amount": "<refund.succeeded only, optional: the part refunded, e.g. \"10.01\">"}}

A ``refund.succeeded`` event (020) is the processor reporting a refund of the checkout's payment
(made in its dashboard, a chargeback, or the test provider's ``refund_as_test_provider``): the same
signature, the same once-per-event-id record, and ``apply_refund_event()`` refunds the sale (what is
left of it without an amount; a sale may be refunded in several parts, never past what was paid)
through ``private.refund_sale``, as the portal's own refunds do. An event that cannot apply (an
unknown sale, nothing left, an amount past what is left) answers ``unapplied`` and is recorded so
for the admins (the sales page lists them).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
import uuid
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from flask import url_for

from portal import db

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "Portal-Signature"
SCHEME = "v1"
EVENT_KINDS = ("payment.succeeded", "payment.failed", "refund.succeeded")
REFUND_KIND = "refund.succeeded"   # 020
AMOUNT_MAX = Decimal("9999999999.99")  # numeric(12,2)
EVENT_ID_MAX = 200          # payment_events.event_id: 1..200 characters
REASON_MAX = 500            # checkouts.failure_reason: at most 500 (the SQL trims to it as well)


class SignatureError(ValueError):
    """The signature header is missing, malformed, stale, or does not match the body."""


class EventError(ValueError):
    """The body is not a well-formed payment event."""


# --- providers -----------------------------------------------------------------------


class TestProvider:
    """The built-in provider: our own confirmation page, test mode, no money moves."""
    name = "test"
    takes_test_payments = True

    def checkout_url(self, checkout_id) -> str:
        return url_for("enrollment.checkout", checkout_id=checkout_id)


class HostedProvider:
    """A real processor's hosted checkout page; its answer comes through the webhook."""
    name = "hosted"
    takes_test_payments = False

    def __init__(self, checkout_url_template: str):
        self.template = checkout_url_template

    def checkout_url(self, checkout_id) -> str:
        return self.template.format(checkout_id=checkout_id)


def provider_for(config) -> TestProvider | HostedProvider:
    """The provider the configuration names (``config.check`` has validated it)."""
    if config.get("PAYMENT_PROVIDER", "test") == "hosted":
        return HostedProvider(config["PAYMENT_CHECKOUT_URL"])
    return TestProvider()


# --- signing -------------------------------------------------------------------------


def _digest(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``Portal-Signature`` header value for ``body`` sent at ``timestamp``."""
    return f"t={int(timestamp)},{SCHEME}={_digest(secret, int(timestamp), body)}"


def verify(secret: str, header: str | None, body: bytes, now: int, tolerance: int) -> int:
    """Check ``header`` against ``body``; return its timestamp or raise SignatureError."""
    if not secret:
        raise SignatureError("the webhook secret is not configured")
    if not header:
        raise SignatureError(f"missing {SIGNATURE_HEADER} header")
    timestamp, signatures = None, []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            raise SignatureError("malformed signature header")
        if key == "t":
            if not value.isdigit() or len(value) > 12:
                raise SignatureError("malformed signature timestamp")
            timestamp = int(value)
        elif key == SCHEME:
            signatures.append(value)
    if timestamp is None or not signatures:
        raise SignatureError("the signature header needs t= and v1=")
    if abs(now - timestamp) > tolerance:
        raise SignatureError("the signature timestamp is outside the tolerance window")
    expected = _digest(secret, timestamp, body)
    # Every candidate is compared (no early exit on the first match) in constant time.
    matched = False
    for candidate in signatures:
        matched |= hmac.compare_digest(expected.encode(), candidate.encode())
    if not matched:
        raise SignatureError("the signature does not match the body")
    return timestamp


# --- events --------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    id: str
    kind: str
    checkout_id: uuid.UUID
    reason: str | None
    payload: dict
    amount: Decimal | None = None   # refund.succeeded: the part refunded (None: in full)


def _amount(raw) -> Decimal | None:
    """A refund's amount: a positive number of whole cents (text or a JSON number), or EventError."""
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
        raise EventError("data.amount must be a number of whole cents, as text")
    try:
        value = Decimal(str(raw))
    except InvalidOperation as exc:
        raise EventError("data.amount must be a number of whole cents, as text") from exc
    if not value.is_finite() or value <= 0 or value > AMOUNT_MAX or value != value.quantize(Decimal("0.01")):
        raise EventError("data.amount must be a positive number of whole cents")
    return value


def parse_event(body: bytes) -> Event:
    """The event in ``body``, or EventError saying what is wrong with it."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise EventError("the body is not JSON") from exc
    if not isinstance(data, dict):
        raise EventError("the event must be a JSON object")
    event_id, kind, detail = data.get("id"), data.get("type"), data.get("data")
    if not isinstance(event_id, str) or not 1 <= len(event_id) <= EVENT_ID_MAX or "\x00" in event_id:
        raise EventError(f"id must be a string of 1 to {EVENT_ID_MAX} characters")
    if kind not in EVENT_KINDS:
        raise EventError(f"type must be one of {', '.join(EVENT_KINDS)}")
    if not isinstance(detail, dict):
        raise EventError("data must be an object")
    try:
        checkout_id = uuid.UUID(str(detail.get("checkout_id")))
    except ValueError as exc:
        raise EventError("data.checkout_id must be a checkout id (a UUID)") from exc
    reason = detail.get("reason")
    if reason is not None and (not isinstance(reason, str) or "\x00" in reason):
        raise EventError("data.reason must be a string")
    if "\\u0000" in json.dumps(data):
        raise EventError("the event holds a NUL character")  # jsonb cannot store \u0000
    try:  # a lone surrogate ("\\ud800") parses, but is not text PostgreSQL can store
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise EventError("the event holds text that is not valid Unicode") from exc
    amount = _amount(detail.get("amount")) if kind == REFUND_KIND else None
    return Event(event_id, kind, checkout_id, reason[:REASON_MAX] if reason else None, data, amount)


def event_body(kind: str, checkout_id, reason: str | None = None, event_id: str | None = None,
               amount: Decimal | None = None) -> bytes:
    """A serialized event, as a processor (or the test provider) sends it."""
    detail = {"checkout_id": str(checkout_id)}
    if reason:
        detail["reason"] = reason
    if amount is not None:
        detail["amount"] = str(amount)
    event = {"id": event_id or f"evt_{secrets.token_hex(12)}", "type": kind, "data": detail}
    return json.dumps(event, separators=(",", ":")).encode()


def apply_event(event: Event) -> str:
    """Apply one verified event; return 'succeeded', 'failed', 'refunded', 'unapplied', 'ignored' or 'duplicate'.

    ``apply_payment_event()`` is granted to service_role only, so this switches
    the *transaction-local* role to service_role for one statement and back.
    Why that is safe:

    * it is called only by ``receive()``, after the signature is verified
      (the webhook), or by the test provider for the student's own open
      checkout, read under their row-level security, in test mode only
      (production refuses the test provider);
    * ``set_config(..., true)`` is transaction-local, and the whole switch runs
      inside a savepoint: should the statement fail, rolling the savepoint back
      restores the caller's role and claims too, and the transaction ends
      with the request anyway, so nothing reaches the next user of the pooled
      connection;
    * on success the caller's role and claims are put back at once, so the rest
      of the request runs under its own row-level security again.
    """
    with db.database.atomic():
        role, claims = db.database.execute_sql(
            "SELECT current_setting('role'), current_setting('request.jwt.claims', true)").fetchone()
        db.database.execute_sql("SELECT set_config('role', 'service_role', true), "
                                "set_config('request.jwt.claims', '{\"role\":\"service_role\"}', true)")
        if event.kind == REFUND_KIND:  # 020: the provider's refund, applied once
            (result,) = db.database.execute_sql(
                "SELECT apply_refund_event(%s, %s, %s, %s, %s::jsonb)",
                (event.id, str(event.checkout_id), event.amount, event.reason,
                 json.dumps(event.payload))).fetchone()
        else:
            (result,) = db.database.execute_sql(
                "SELECT apply_payment_event(%s, %s, %s, %s, %s::jsonb)",
                (event.id, str(event.checkout_id), event.kind, event.reason, json.dumps(event.payload))).fetchone()
        db.database.execute_sql("SELECT set_config('role', %s, true), set_config('request.jwt.claims', %s, true)",
                                (role, claims or ""))
    log.info("payment event %s (%s) for checkout %s: %s", event.id, event.kind, event.checkout_id, result)
    return result


def receive(secret: str, header: str | None, body: bytes, *, tolerance: int, now: int | None = None) -> str:
    """Verify, parse and apply one delivery: the webhook's path, and the test provider's."""
    verify(secret, header, body, int(time.time()) if now is None else now, tolerance)
    return apply_event(parse_event(body))


def settle_as_test_provider(config, checkout_id, kind: str, reason: str | None = None) -> str:
    """The test provider's answer for ``checkout_id``: a signed event through ``receive()``."""
    body = event_body(kind, checkout_id, reason)
    now = int(time.time())
    header = sign(config["PAYMENT_WEBHOOK_SECRET"], now, body)
    return receive(config["PAYMENT_WEBHOOK_SECRET"], header, body,
                   tolerance=config["PAYMENT_WEBHOOK_TOLERANCE"], now=now)


def refund_as_test_provider(config, checkout_id, amount: Decimal | None = None, reason: str | None = None) -> str:
    """The test provider reporting a refund of ``checkout_id``'s payment: a signed
    ``refund.succeeded`` event through ``receive()``, the webhook's own path (020)."""
    body = event_body(REFUND_KIND, checkout_id, reason, amount=amount)
    now = int(time.time())
    header = sign(config["PAYMENT_WEBHOOK_SECRET"], now, body)
    return receive(config["PAYMENT_WEBHOOK_SECRET"], header, body,
                   tolerance=config["PAYMENT_WEBHOOK_TOLERANCE"], now=now)
