"""Revenue (issue 16): what an instructor earned, when they are paid, refunds and payouts.

Instructors: the overview of a period against the one before it, by source and by course or
workshop, with the monthly chart; every transaction (filters, keyset pages, a streamed CSV that
sums to the overview's figures); a sale's page with its refund (in full, within the window);
their payouts with each one's rows and statement. A co-instructor sees the rows of the courses
they may see the revenue of; a course or workshop they may not is a 404 here.
Admins: payouts to make (by each instructor's schedule), to review, to mark paid or cancel; every
sale, refunded in full or in part. Students: their payments and refunds, a receipt for each.
"""

from __future__ import annotations

from datetime import date

from flask import abort, request, url_for
from flask_login import current_user
from peewee import DatabaseError

from portal import refusals
from portal.db import database
from portal.formatting import monthly_sales_chart
from portal.listing import csv_response
from portal.revenue import bp, forms, queries
from portal.web import found, is_partial, notify, redirect_to, render, role_required

MONTHS_NOTE = "From the nightly monthly statistics of your own courses and workshops (refreshed each night)."


def _item_or_404(item: str, choices: dict) -> tuple:
    """The course or workshop asked for, when the caller may see its revenue; else a 404."""
    if not item:
        return None, None
    if item not in choices:
        abort(404)
    return queries.item_ids(item)


def _change(now, before):
    if not before:
        return None
    return (now - before) / abs(before) * 100


# --- the instructor's pages ------------------------------------------------------------------------

@bp.route("/")
@role_required("instructor")
def index():
    period, errors = queries.period_from(request.args)
    choices = queries.items()
    item = request.args.get("item", "")
    course_id, workshop_id = _item_or_404(item, choices)
    now = queries.figures(period, course_id, workshop_id)
    before = queries.figures(period.previous, course_id, workshop_id)
    cards = [dict(key=key, label=label, now=now[key], before=before[key], change=_change(now[key], before[key]))
             for key, label in queries.FIGURES]
    sort = request.args.get("sort") if request.args.get("sort") in queries.ITEM_SORTS else "earnings"
    months = queries.months(current_user.id)
    total = sum(m["gross"] for m in months)
    dates = {k: request.args.get(k) for k in ("from", "to")} if period.key == "custom" else {}
    transactions_link = url_for("revenue.transactions", period=period.key, item=item or None, **dates)
    return render("revenue/index.html", transactions_link=transactions_link, status=422 if errors else 200, period=period, errors=errors,
                  periods=queries.PERIODS, args=request.args, items=choices, item=item, cards=cards,
                  sales=(now["sales"], before["sales"]),
                  breakdown=queries.breakdown(period) if not item else None,
                  by_item=queries.by_item(period, sort) if not item else None, sort=sort,
                  item_sorts=queries.ITEM_SORTS, months=months, months_note=MONTHS_NOTE,
                  revenue_chart=dict(summary=f"Gross sales over the last 12 months: {total:,.2f}",
                                     data=monthly_sales_chart(months)))


def _transactions_view():
    """The list's view, its period (None: all time) and the custom dates' errors by field (then
    the period is this month meanwhile, as on the overview)."""
    view = queries.TRANSACTIONS.read(request.args)
    choices = queries.items()
    _item_or_404(view.item, choices)
    view.choices["item"] = choices
    period, errors = None, {}
    if view.period != "all":
        period, errors = queries.period_from({**request.args.to_dict(), "period": view.period})
    return view, period, errors


def _transactions_page(view, period, errors):
    dates = {k: request.args.get(k) for k in ("from", "to") if view.period == "custom" and request.args.get(k)}
    listing = queries.transactions(view, period).link("revenue.transactions", **dates)
    return render("revenue/transactions.html", "revenue/_transactions.html", status=422 if errors else 200,
                  listing=listing, period=period, errors=errors, periods=queries.PERIODS,
                  items=view.choices["item"], item=view.item,
                  export_url=url_for("revenue.export_transactions", **{**listing.args(), **dates}),
                  overview_url=url_for("revenue.index", period=view.period, **dates),
                  args=request.args, payout_label=queries.payout_label, types=queries.TYPE_LABELS)


@bp.route("/transactions")
@role_required("instructor")
def transactions():
    return _transactions_page(*_transactions_view())


@bp.route("/transactions.csv")
@role_required("instructor")
def export_transactions():
    view, period, errors = _transactions_view()
    if errors:  # the dates to fix, on the list's page (no file of the wrong period)
        return _transactions_page(view, period, errors)
    return csv_response(f"revenue-{date.today().isoformat()}", queries.CSV_HEADER,
                        queries.transaction_rows(view, period))


def _sale_page(row, form, status=200):
    window = queries.refund_window()
    refundable = (row["instructor_id"] == current_user.id and row["transaction_type"] != "refund"
                  and not row["refunds"] and row["transaction_date"] >= _now() - window)
    return render("revenue/transaction.html", status=status, row=row, form=form, refundable=refundable,
                  window_days=window.days, types=queries.TYPE_LABELS, payout_label=queries.payout_label)


def _now():
    return database.execute_sql("SELECT now()").fetchone()[0]


@bp.route("/transactions/<uuid:transaction_id>")
@role_required("instructor")
def transaction(transaction_id):
    row = found(queries.transaction(transaction_id))
    return _sale_page(row, forms.RefundForm(formdata=None))


@bp.route("/transactions/<uuid:transaction_id>/refund", methods=["POST"])
@role_required("instructor")
def refund(transaction_id):
    row = found(queries.transaction(transaction_id))
    form = forms.RefundForm()
    if form.validate_on_submit():
        try:
            with database.atomic():
                queries.refund_my_sale(transaction_id, form.reason.data)
        except DatabaseError as exc:
            form.form_errors.append(refusals.message(exc))
        else:
            return notify(redirect_to(url_for("revenue.transaction", transaction_id=transaction_id)),
                          "Refunded. The student is told, and the figures include the refund.")
    return _sale_page(row, form, status=422)


@bp.route("/payouts")
@role_required("instructor")
def payouts():
    listing = queries.payouts(queries.PAYOUT_LIST.read(request.args), current_user.id).link("revenue.payouts")
    return render("revenue/payouts.html", "revenue/_payouts.html", listing=listing,
                  summary=queries.payout_summary(current_user.id), window_days=queries.refund_window().days)


def _my_payout(payout_id):
    row = found(queries.payout(payout_id))
    if row["instructor"] != current_user.id:
        abort(404)
    return row


@bp.route("/payouts/<uuid:payout_id>")
@role_required("instructor")
def payout(payout_id):
    row = _my_payout(payout_id)
    rows = queries.payout_rows(queries.PAYOUT_ROWS.read(request.args), payout_id).link(
        "revenue.payout", payout_id=payout_id)
    return render("revenue/payout.html", "revenue/_payout_rows.html", payout=row, rows=rows,
                  types=queries.TYPE_LABELS, admin=False)


@bp.route("/payouts/<uuid:payout_id>/statement.csv")
@role_required("instructor")
def statement(payout_id):
    _my_payout(payout_id)
    return csv_response(f"payout-{payout_id}", queries.STATEMENT_HEADER, queries.statement_rows(payout_id))


# --- the admin's payouts and refunds -------------------------------------------------------------------

@bp.route("/admin/payouts")
@role_required("admin")
def admin_payouts():
    listing = queries.payouts(queries.PAYOUT_LIST.read(request.args)).link("revenue.admin_payouts")
    return render("revenue/admin_payouts.html", "revenue/_payouts.html", listing=listing, due=queries.payouts_due(),
                  window_days=queries.refund_window().days, admin=True)


@bp.route("/admin/payouts", methods=["POST"])
@role_required("admin")
def create_payout():
    form = forms.CreatePayoutForm()
    if form.validate_on_submit():
        try:
            with database.atomic():
                payout_id = queries.create_payout(form.instructor_id.data, form.currency.data)
        except DatabaseError as exc:
            message = refusals.message(exc)
        else:
            return notify(redirect_to(url_for("revenue.admin_payout", payout_id=payout_id)),
                          "Payout created: review its rows, then mark it paid once the money is sent.")
    else:
        message = "Choose an instructor's earnings to pay out."
    listing = queries.payouts(queries.PAYOUT_LIST.read({})).link("revenue.admin_payouts")
    response = render("revenue/admin_payouts.html", status=422, listing=listing, due=queries.payouts_due(),
                      window_days=queries.refund_window().days, admin=True, error=message)
    return notify(response, message, "error") if is_partial() else response


@bp.route("/admin/payouts/due", methods=["POST"])
@role_required("admin")
def create_due_payouts():
    """A payout for every instructor their schedule makes due, with earnings ready and none scheduled;
    each in a savepoint of its own, so one refusal (its total not positive by now) skips only that one."""
    made = skipped = 0
    for row in queries.payouts_due():
        if not row["due"] or row["scheduled"] or row["eligible"] <= 0:
            continue
        try:
            with database.atomic():
                queries.create_payout(row["instructor_id"], row["currency"])
        except DatabaseError:
            skipped += 1
        else:
            made += 1
    message = f"{made} payout{'' if made == 1 else 's'} made" + (f", {skipped} skipped" if skipped else "") + \
        ": review each one, then mark it paid once the money is sent."
    return notify(redirect_to(url_for("revenue.admin_payouts")), message)


def _admin_payout_page(payout_id, form, status=200, cancel_form=None):
    row = found(queries.payout(payout_id))
    rows = queries.payout_rows(queries.PAYOUT_ROWS.read(request.args), payout_id).link(
        "revenue.admin_payout", payout_id=payout_id)
    return render("revenue/payout.html", "revenue/_payout_rows.html", status=status, payout=row, rows=rows,
                  types=queries.TYPE_LABELS, admin=True, form=form,
                  cancel_form=cancel_form or forms.CancelPayoutForm(formdata=None))


@bp.route("/admin/payouts/<uuid:payout_id>")
@role_required("admin")
def admin_payout(payout_id):
    return _admin_payout_page(payout_id, forms.PayoutPaidForm(formdata=None))


@bp.route("/admin/payouts/<uuid:payout_id>/statement.csv")
@role_required("admin")
def admin_statement(payout_id):
    found(queries.payout(payout_id))
    return csv_response(f"payout-{payout_id}", queries.STATEMENT_HEADER, queries.statement_rows(payout_id))


@bp.route("/admin/payouts/<uuid:payout_id>/paid", methods=["POST"])
@role_required("admin")
def mark_paid(payout_id):
    found(queries.payout(payout_id))
    form = forms.PayoutPaidForm()
    if form.validate_on_submit():
        try:
            with database.atomic():
                queries.mark_payout_paid(payout_id, form.reference.data or "")
        except DatabaseError as exc:
            form.form_errors.append(refusals.message(exc))
        else:
            return notify(redirect_to(url_for("revenue.admin_payout", payout_id=payout_id)),
                          "Marked paid. The instructor is told.")
    return _admin_payout_page(payout_id, form, status=422)


@bp.route("/admin/payouts/<uuid:payout_id>/cancel", methods=["POST"])
@role_required("admin")
def cancel_payout(payout_id):
    found(queries.payout(payout_id))
    cancel_form = forms.CancelPayoutForm()
    if not cancel_form.validate_on_submit():
        return _admin_payout_page(payout_id, forms.PayoutPaidForm(formdata=None), status=422,
                                  cancel_form=cancel_form)
    try:
        with database.atomic():
            queries.cancel_payout(payout_id)
    except DatabaseError as exc:
        form = forms.PayoutPaidForm(formdata=None)
        form.form_errors.append(refusals.message(exc))
        return _admin_payout_page(payout_id, form, status=422, cancel_form=cancel_form)
    return notify(redirect_to(url_for("revenue.admin_payout", payout_id=payout_id)),
                  "Cancelled. Its rows wait for the next payout.")


@bp.route("/admin/refresh-stats", methods=["POST"])
@role_required("admin")
def refresh_stats():
    """Queue the monthly statistics' refresh now (the worker runs it, concurrently)."""
    with database.atomic():
        queries.request_monthly_stats_refresh()
    return notify(redirect_to(url_for("revenue.admin_payouts")),
                  "The monthly statistics are being refreshed; the charts follow within minutes.")


@bp.route("/admin/sales")
@role_required("admin")
def admin_sales():
    listing = queries.sales(queries.SALES.read(request.args)).link("revenue.admin_sales")
    return render("revenue/admin_sales.html", "revenue/_admin_sales.html", listing=listing,
                  types=queries.TYPE_LABELS, unapplied=queries.unapplied_refunds(),
                  refusal_message=lambda code: refusals.MESSAGES.get(code or "", "Refused."))


def _admin_sale_page(row, form, status=200):
    refundable = row["transaction_type"] != "refund" and row["left"] > 0
    return render("revenue/admin_sale.html", status=status, row=row, form=form, refundable=refundable,
                  types=queries.TYPE_LABELS)


@bp.route("/admin/sales/<uuid:transaction_id>")
@role_required("admin")
def admin_sale(transaction_id):
    return _admin_sale_page(found(queries.sale(transaction_id)), forms.AdminRefundForm(formdata=None))


@bp.route("/admin/sales/<uuid:transaction_id>/refund", methods=["POST"])
@role_required("admin")
def admin_refund(transaction_id):
    row = found(queries.sale(transaction_id))
    form = forms.AdminRefundForm()
    if form.validate_on_submit():
        try:
            with database.atomic():
                queries.admin_refund_sale(transaction_id, form.amount.data, form.reason.data)
        except DatabaseError as exc:
            form.form_errors.append(refusals.message(exc))
        else:
            return notify(redirect_to(url_for("revenue.admin_sale", transaction_id=transaction_id)),
                          "Refunded. The student is told.")
    return _admin_sale_page(row, form, status=422)


# --- receipts: anyone signed in who paid (an instructor or admin buys courses too) ---------------------------

SIGNED_IN = ("student", "instructor", "org_admin", "admin")   # my_payments() reads the caller's own rows only


@bp.route("/receipts")
@role_required(*SIGNED_IN)
def receipts():
    listing = queries.receipts(queries.RECEIPTS.read(request.args)).link("revenue.receipts")
    return render("revenue/receipts.html", "revenue/_receipts.html", listing=listing)


@bp.route("/receipts/<uuid:transaction_id>")
@role_required(*SIGNED_IN)
def receipt(transaction_id):
    row = found(queries.receipt(transaction_id))
    sale = queries.receipt(row["refund_of"]) if row["refund_of"] else None
    return render("revenue/receipt.html", row=row, sale=sale)
