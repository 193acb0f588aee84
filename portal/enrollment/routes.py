"""Paying: the checkout page (the test provider's, and the return page of a hosted one) and the
payment webhook. Enrolling, which starts a checkout, is the catalog's (catalog/enrolling).

Views are thin: ``queries`` reads the checkout under the request's role (a
checkout that is not the student's is a 404).

Payments go through ``portal.payments``: the provider names the checkout page
(ours in test mode, the processor's otherwise), and every payment event, the
test provider's included, is verified and applied by ``payments.receive``.
"""

from __future__ import annotations

import logging

from flask import abort, current_app, flash, jsonify, request, url_for
from flask_login import current_user

from portal import csrf, payments
from portal.enrollment import bp, forms, queries
from portal.web import found, redirect_to, render, role_required

log = logging.getLogger(__name__)


# --- the checkout page (the test provider's, and the return page of a hosted one) ----------------

def _checkout_or_404(checkout_id) -> queries.CheckoutView:
    return found(queries.my_checkout(current_user.id, checkout_id))


def _checkout_page(view: queries.CheckoutView, form=None, status: int = 200):
    provider = payments.provider_for(current_app.config)
    test_mode = view.checkout.provider == "test"
    return render("enrollment/checkout.html", "enrollment/_checkout.html", status=status, view=view,
                  checkout=view.checkout, course=view.course, form=form or forms.DeclineForm(formdata=None),
                  test_mode=test_mode, can_pay=test_mode and provider.takes_test_payments,
                  hosted_url=None if test_mode or provider.takes_test_payments
                  else provider.checkout_url(view.checkout.id))


@bp.route("/checkout/<uuid:checkout_id>")
@role_required("student", "instructor", "org_admin", "admin")
def checkout(checkout_id):
    """The student's own checkout: pay or decline (test mode), its outcome, a retry."""
    return _checkout_page(_checkout_or_404(checkout_id))


def _test_checkout_or_404(checkout_id) -> queries.CheckoutView:
    """The student's own checkout of the test provider, while the test provider is on."""
    if current_app.config.get("PAYMENT_PROVIDER") != "test":
        abort(404)
    view = _checkout_or_404(checkout_id)
    if view.checkout.provider != "test":
        abort(404)
    return view


def _settled_already(view: queries.CheckoutView):
    flash("This payment is already settled.", "info")
    return redirect_to(url_for("enrollment.checkout", checkout_id=view.checkout.id))


@bp.route("/checkout/<uuid:checkout_id>/pay", methods=["POST"])
@role_required("student", "instructor", "org_admin", "admin")
def pay(checkout_id):
    """Test provider: the payment succeeds (a signed event through the webhook's path)."""
    view = _test_checkout_or_404(checkout_id)
    if view.checkout.status != "open":
        return _settled_already(view)
    payments.settle_as_test_provider(current_app.config, view.checkout.id, "payment.succeeded")
    view = _checkout_or_404(checkout_id)
    if view.workshop is not None:  # 021: a workshop seat
        flash(f"Payment received. Your seat at “{view.workshop['title']}” is confirmed.", "success")
        return redirect_to(url_for("workshops.page", workshop_slug=view.workshop["slug"]))
    title = view.course.title if view.course else "the course"
    if view.active and view.course is not None:
        flash(f"Payment received. You are enrolled in “{title}”.", "success")
        return redirect_to(url_for("learning.resume", slug=view.course.slug))
    if view.awaiting_approval and view.course is not None:
        flash(f"Payment received. Your enrollment in “{title}” is waiting for approval by the instructor.",
              "success")
        return redirect_to(url_for("catalog.course", slug=view.course.slug))
    flash("Payment received.", "success")
    return redirect_to(url_for("enrollment.checkout", checkout_id=view.checkout.id))


@bp.route("/checkout/<uuid:checkout_id>/decline", methods=["POST"])
@role_required("student", "instructor", "org_admin", "admin")
def decline(checkout_id):
    """Test provider: the payment fails with the given reason; the page then offers a retry."""
    view = _test_checkout_or_404(checkout_id)
    if view.checkout.status != "open":
        return _settled_already(view)
    form = forms.DeclineForm()
    if not form.validate_on_submit():
        return _checkout_page(view, form, status=422)
    payments.settle_as_test_provider(current_app.config, view.checkout.id, "payment.failed",
                                     form.reason.data or None)
    flash("The payment was declined. Nothing was charged; you can try again.", "error")
    return redirect_to(url_for("enrollment.checkout", checkout_id=view.checkout.id))


# --- the webhook -------------------------------------------------------------------------


def _webhook_error(message: str, status: int = 400):
    return jsonify(error=message), status


@bp.route("/payments/webhook", methods=["POST"])
def webhook():
    """A processor's signed payment event: verified, then applied once per event id.

    Anonymous and CSRF-exempt (the processor has no session); the signature is
    the authentication. Bad input is a 400 with a JSON error, never a 500.
    """
    if request.mimetype != "application/json":
        return _webhook_error("send the event as application/json", 415)
    config = current_app.config
    try:
        result = payments.receive(config["PAYMENT_WEBHOOK_SECRET"], request.headers.get(payments.SIGNATURE_HEADER),
                                  request.get_data(cache=False), tolerance=config["PAYMENT_WEBHOOK_TOLERANCE"])
    except payments.SignatureError as exc:
        log.warning("payment webhook refused: %s", exc)
        return _webhook_error(f"signature refused: {exc}")
    except payments.EventError as exc:
        log.warning("payment webhook: malformed event: %s", exc)
        return _webhook_error(f"malformed event: {exc}")
    return jsonify(result=result), 200


csrf.exempt(webhook)
