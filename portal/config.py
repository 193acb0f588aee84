"""Configuration from the environment, with safe development defaults.

``PORTAL_ENV=production`` turns the defaults strict: the app refuses to start
with the development secret key, and session cookies are Secure.
"""

from __future__ import annotations

import hashlib
import os

from portal import secretbox
from portal.db import INSTANCE_DIR

DEVELOPMENT_SECRET = "development-only-secret-do-not-use-in-production"
DEVELOPMENT_WEBHOOK_SECRET = "development-only-webhook-secret"
PAYMENT_PROVIDERS = ("test", "hosted")
MAIL_BACKENDS = ("smtp", "capture")
SMTP_SECURITY = ("starttls", "tls", "none")


DEVELOPMENT_KEY_ID = "dev"


def payment_details_keys(config) -> dict[str, bytes]:
    """The key ring that seals payment details: PAYMENT_DETAILS_KEYS, or in
    development one key derived from the (per-instance) SECRET_KEY."""
    if config.get("PAYMENT_DETAILS_KEYS"):
        return secretbox.parse_keys(config["PAYMENT_DETAILS_KEYS"])
    derived = hashlib.sha256(f"payment-details:{config['SECRET_KEY']}".encode()).digest()
    return {DEVELOPMENT_KEY_ID: derived}


class ConfigError(RuntimeError):
    """Configuration that must not run: the message says what to set."""


def statement_timeout_ms() -> int:
    """``DATABASE_STATEMENT_TIMEOUT_MS`` (default 5000)."""
    return int(os.environ.get("DATABASE_STATEMENT_TIMEOUT_MS", "5000"))


def from_environment() -> dict:
    production = os.environ.get("PORTAL_ENV", "development") == "production"
    return {
        "PORTAL_ENV": "production" if production else "development",
        "SECRET_KEY": os.environ.get("SECRET_KEY", DEVELOPMENT_SECRET),
        # As authenticator; `python -m portal run` sets it for the embedded server.
        "DATABASE_URL": os.environ.get("DATABASE_URL"),
        "DATABASE_POOL_SIZE": int(os.environ.get("DATABASE_POOL_SIZE", "8")),
        # Each request's statement_timeout (0: none): a statement that runs longer is
        # cancelled and the page answers 503. gunicorn's --timeout is set above it (serve.py).
        "DATABASE_STATEMENT_TIMEOUT_MS": statement_timeout_ms(),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "SESSION_COOKIE_NAME": "portal_session",
        "PERMANENT_SESSION_LIFETIME": 60 * 60 * 12,
        # The CSRF token is bound to the session; no extra expiry that would
        # break a form left open over lunch.
        "WTF_CSRF_TIME_LIMIT": None,
        # Failed sign-ins allowed per account and per address within the window
        # (ASVS 2.2.1: at most 100 an hour per account).
        "SIGN_IN_ACCOUNT_LIMIT": int(os.environ.get("SIGN_IN_ACCOUNT_LIMIT", "10")),
        "SIGN_IN_ADDRESS_LIMIT": int(os.environ.get("SIGN_IN_ADDRESS_LIMIT", "50")),
        "SIGN_IN_WINDOW_MINUTES": int(os.environ.get("SIGN_IN_WINDOW_MINUTES", "15")),
        # A forgotten password (011): requests per email and per network address within the
        # window (the same answer either way), and how long an emailed link works.
        "PASSWORD_RESET_ACCOUNT_LIMIT": int(os.environ.get("PASSWORD_RESET_ACCOUNT_LIMIT", "3")),
        "PASSWORD_RESET_ADDRESS_LIMIT": int(os.environ.get("PASSWORD_RESET_ADDRESS_LIMIT", "20")),
        "PASSWORD_RESET_WINDOW_MINUTES": int(os.environ.get("PASSWORD_RESET_WINDOW_MINUTES", "60")),
        "PASSWORD_RESET_TTL_MINUTES": int(os.environ.get("PASSWORD_RESET_TTL_MINUTES", "60")),
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        # Payments (portal/payments.py): "test" is the built-in test provider
        # (development and the demo only); "hosted" sends the student to a real
        # processor's checkout page (PAYMENT_CHECKOUT_URL, with {checkout_id})
        # and hears back through the signed webhook.
        "PAYMENT_PROVIDER": os.environ.get("PAYMENT_PROVIDER", "hosted" if production else "test"),
        "PAYMENT_CHECKOUT_URL": os.environ.get("PAYMENT_CHECKOUT_URL"),
        "PAYMENT_WEBHOOK_SECRET": os.environ.get("PAYMENT_WEBHOOK_SECRET", DEVELOPMENT_WEBHOOK_SECRET),
        # How old a signed webhook event may be (seconds) before it is refused as a replay.
        "PAYMENT_WEBHOOK_TOLERANCE": int(os.environ.get("PAYMENT_WEBHOOK_TOLERANCE", "300")),
        # AES-256-GCM keys for instructors' payment details (portal/secretbox.py):
        # "<id>:<base64url 32 bytes>", comma-separated, the first one sealing.
        # Unset in development: one key derived from SECRET_KEY (id "dev").
        "PAYMENT_DETAILS_KEYS": os.environ.get("PAYMENT_DETAILS_KEYS"),
        # Where the portal is reached: the links in emails (the worker has no request to ask).
        "PORTAL_URL": os.environ.get("PORTAL_URL", "" if production else "http://127.0.0.1:5000"),
        # Email (portal/mail.py): "smtp" through SMTP_*, or "capture" (development only): each
        # message is kept in the Maildir MAIL_CAPTURE_DIR and shown at /dev/mail.
        "MAIL_BACKEND": os.environ.get("MAIL_BACKEND", "smtp" if production else "capture"),
        "MAIL_CAPTURE_DIR": os.environ.get("MAIL_CAPTURE_DIR", str(INSTANCE_DIR / "mail")),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "Instructor Portal <no-reply@localhost>"),
        "SMTP_HOST": os.environ.get("SMTP_HOST", "localhost"),
        "SMTP_PORT": int(os.environ.get("SMTP_PORT", "587")),
        "SMTP_USERNAME": os.environ.get("SMTP_USERNAME"),
        "SMTP_PASSWORD": os.environ.get("SMTP_PASSWORD"),
        # "starttls" (port 587), "tls" (implicit TLS, port 465) or "none" (a local relay).
        "SMTP_SECURITY": os.environ.get("SMTP_SECURITY", "starttls"),
        "SMTP_TIMEOUT": int(os.environ.get("SMTP_TIMEOUT", "30")),
        # The worker (portal/jobs/): jobs run at once per process, how many times an email is
        # tried before its job is dead, the first retry's wait (seconds; each later one doubles),
        # how long activity stays in the timeline and read notices are kept, and how long a
        # checkout may stay open.
        "WORKER_CONCURRENCY": int(os.environ.get("WORKER_CONCURRENCY", "4")),
        # How often an idle worker asks for a job (seconds): workers poll, they do not LISTEN (010).
        "WORKER_POLL_SECONDS": float(os.environ.get("WORKER_POLL_SECONDS", "1")),
        "EMAIL_ATTEMPTS": int(os.environ.get("EMAIL_ATTEMPTS", "5")),
        "JOB_RETRY_WAIT": int(os.environ.get("JOB_RETRY_WAIT", "60")),
        "ACTIVITY_RETENTION": os.environ.get("ACTIVITY_RETENTION", "1 year"),
        "NOTIFICATION_RETENTION": os.environ.get("NOTIFICATION_RETENTION", "180 days"),
        # Bulk enrollment (015): addresses an instructor may add (enroll or invite) a day, at most
        # the database's own cap (1000); students notified per transaction of an announcement's fan-out.
        "BULK_ENROLL_PER_DAY": int(os.environ.get("BULK_ENROLL_PER_DAY", "200")),
        "ANNOUNCEMENT_BATCH": int(os.environ.get("ANNOUNCEMENT_BATCH", "500")),
        "CHECKOUT_TTL": os.environ.get("CHECKOUT_TTL", "24 hours"),
    }


def check(config) -> None:
    """Refuse a configuration that is unsafe or incomplete."""
    if config["PORTAL_ENV"] == "production":
        if not config.get("SECRET_KEY") or config["SECRET_KEY"] == DEVELOPMENT_SECRET \
                or len(config["SECRET_KEY"]) < 32:
            raise ConfigError("production needs SECRET_KEY set to a random value of 32+ characters")
        if config.get("PAYMENT_PROVIDER") == "test":
            raise ConfigError("production cannot take payments through the test provider: "
                              "set PAYMENT_PROVIDER=hosted")
        secret = config.get("PAYMENT_WEBHOOK_SECRET") or ""
        if secret == DEVELOPMENT_WEBHOOK_SECRET or len(secret) < 32:
            raise ConfigError("production needs PAYMENT_WEBHOOK_SECRET set to the processor's signing "
                              "secret (32+ characters)")
        if config.get("MAIL_BACKEND") == "capture":
            raise ConfigError("production sends email: set MAIL_BACKEND=smtp and SMTP_HOST (the capture "
                              "mailbox is for development)")
        if not str(config.get("PORTAL_URL") or "").startswith("https://"):
            raise ConfigError("production needs PORTAL_URL, the https:// address the portal is reached at "
                              "(the links in emails)")
        if not config.get("PAYMENT_DETAILS_KEYS"):
            raise ConfigError("production needs PAYMENT_DETAILS_KEYS (<id>:<base64url 32 bytes>; "
                              "`python -c 'from portal import secretbox; print(secretbox.new_key())'` makes one)")
    if config.get("PAYMENT_DETAILS_KEYS"):
        try:
            ring = secretbox.parse_keys(config["PAYMENT_DETAILS_KEYS"])
        except secretbox.SecretBoxError as exc:
            raise ConfigError(f"PAYMENT_DETAILS_KEYS: {exc}") from exc
        if DEVELOPMENT_KEY_ID in ring and config["PORTAL_ENV"] == "production":
            raise ConfigError(f"PAYMENT_DETAILS_KEYS: the key id {DEVELOPMENT_KEY_ID!r} is for development")
    if config.get("PAYMENT_PROVIDER") not in PAYMENT_PROVIDERS:
        raise ConfigError(f"PAYMENT_PROVIDER must be one of {', '.join(PAYMENT_PROVIDERS)}")
    if config["PAYMENT_PROVIDER"] == "hosted" and not config.get("PAYMENT_CHECKOUT_URL"):
        raise ConfigError("PAYMENT_PROVIDER=hosted needs PAYMENT_CHECKOUT_URL (the processor's checkout "
                          "page, with {checkout_id})")
    if config.get("MAIL_BACKEND") not in MAIL_BACKENDS:
        raise ConfigError(f"MAIL_BACKEND must be one of {', '.join(MAIL_BACKENDS)}")
    if config.get("SMTP_SECURITY") not in SMTP_SECURITY:
        raise ConfigError(f"SMTP_SECURITY must be one of {', '.join(SMTP_SECURITY)}")
    if config.get("EMAIL_ATTEMPTS", 1) < 1 or config.get("JOB_RETRY_WAIT", 0) < 0:
        raise ConfigError("EMAIL_ATTEMPTS is 1 or more and JOB_RETRY_WAIT 0 or more seconds")
    if config.get("DATABASE_STATEMENT_TIMEOUT_MS", 0) < 0:
        raise ConfigError("DATABASE_STATEMENT_TIMEOUT_MS is milliseconds, 0 or more (0: no timeout)")
    if not config.get("DATABASE_URL"):
        raise ConfigError("DATABASE_URL (as authenticator) is not set; `python -m portal run` sets it "
                          "for the embedded server")
