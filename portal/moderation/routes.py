"""The moderation queue (platform admins): reported reviews, each in context, oldest open report
first; hide or restore a review with a reason, dismiss its reports.

Views are thin: ``queries`` runs plain SQL under the admin's role, which only a platform admin's
request may run (the blueprint is admin-only, and the database refuses or filters out anyone
else). A missing reason is a 422 with the form again; a review that changed meanwhile (hidden
or restored by another admin) says so.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import abort, request, url_for
from peewee import DatabaseError

from portal import refusals
from portal.db import database
from portal.moderation import bp, forms, queries
from portal.web import found, is_partial, notify, redirect_to, render, role_required, safe_next

HIDDEN = "The review is hidden and its reports resolved. Its author is told why."
RESTORED = "The review is shown again. Its author is told."
DISMISSED = "The reports are dismissed; the review stays as it is."
ALREADY_HIDDEN = "Nothing changed: the review is already hidden."
ALREADY_SHOWN = "Nothing changed: the review is already visible."
NO_REPORTS = "Nothing changed: the review has no open report left."
REOPENED = "The dismissed reports are open again; the review is back in the queue."
NOTHING_TO_REOPEN = "Nothing changed: no dismissed report to reopen (a hidden review's reports stay resolved)."
NOT_DONE = "Nothing changed: see the message on the review."


def _forms(rows):
    return {row["id"]: forms.decision_form(row["id"], formdata=None) for row in rows}


@bp.route("/")
@role_required("admin")
def index():
    """The queue; an htmx request (the status choice, a page) gets the list only."""
    view = queries.LIST.read(request.args)
    listing = queries.queue(view).link("moderation.index")
    return render("moderation/index.html", "moderation/_queue.html", listing=listing,
                  forms=_forms(listing.rows) if not view.status.startswith("discussion") else {},
                  reasons=queries.REASONS, open_count=queries.open_count(),
                  discussion_count=queries.discussion_open_count(), back=request.full_path.rstrip("?"))


@bp.route("/<uuid:review_id>")
@role_required("admin")
def review(review_id):
    """One review in context, with every report (the queue's link, and where a plain form lands)."""
    row = found(queries.review(review_id))
    return _card(row, forms.decision_form(review_id, formdata=None), url_for("moderation.index"))


def _back() -> str:
    """Where a plain form goes back to: the queue as it was, or the review's own page; else the queue's top."""
    home = url_for("moderation.index")
    own = url_for("moderation.review", review_id=request.view_args["review_id"])
    target = safe_next(request.form.get("back"), home)
    return target if urlsplit(target).path in (home, own) else home


def _decide(review_id, act, done: str, already: str, needs_reason: bool = True):
    row = found(queries.review(review_id))
    form = forms.decision_form(review_id)
    back = _back()
    if not needs_reason or form.validate_on_submit():
        try:
            with database.atomic():
                touched = act(review_id, form.reason.data) if needs_reason else act(review_id)
        except DatabaseError as exc:  # a refusal the form could not foresee
            form.reason.errors = [*form.reason.errors, refusals.message(exc)]
        else:
            response = redirect_to(back) if not is_partial() else None
            if response is not None:
                return notify(response, done if touched else already, "success" if touched else "info")
            fresh = found(queries.review(review_id))
            return notify(_card(fresh, forms.decision_form(review_id, formdata=None), back),
                          done if touched else already, "success" if touched else "info")
    response = _card(row, form, back, status=422)
    if is_partial():
        notify(response, NOT_DONE, "error")
    return response


@bp.route("/<uuid:review_id>/hide", methods=["POST"])
@role_required("admin")
def hide(review_id):
    return _decide(review_id, queries.hide, HIDDEN, ALREADY_HIDDEN)


@bp.route("/<uuid:review_id>/restore", methods=["POST"])
@role_required("admin")
def restore(review_id):
    return _decide(review_id, queries.restore, RESTORED, ALREADY_SHOWN)


@bp.route("/<uuid:review_id>/dismiss", methods=["POST"])
@role_required("admin")
def dismiss(review_id):
    return _decide(review_id, queries.resolve_reports, DISMISSED, NO_REPORTS, needs_reason=False)


@bp.route("/<uuid:review_id>/reopen", methods=["POST"])
@role_required("admin")
def reopen(review_id):
    """Undo a dismissal: the reports dismissed last are open again."""
    return _decide(review_id, queries.reopen_reports, REOPENED, NOTHING_TO_REOPEN, needs_reason=False)


def _card(row: dict, form, back: str, *, status: int = 200):
    """One review's card (htmx), or a page with only that card."""
    return render("moderation/review.html", "moderation/_review.html", status=status, review=row, form=form,
                  back=back, reasons=queries.REASONS)


# --- 022: reported comments and questions ----------------------------------------------------------

def _post_back() -> str:
    home = url_for("moderation.index", status="discussion")
    target = safe_next(request.form.get("back"), home)
    return target if urlsplit(target).path == url_for("moderation.index") else home


def _act_on_post(kind, post_id, act, done: str, nothing: str):
    """One moderation act on a post (404 when there is no such post), then back to the queue with what
    it did, or why nothing changed."""
    if not queries.post_exists(kind, post_id):
        abort(404)
    touched = act(kind, post_id)
    return notify(redirect_to(_post_back()), done if touched else f"Nothing changed: {nothing}",
                  "success" if touched else "info")


@bp.route("/posts/<any(comment, question, answer):kind>/<uuid:post_id>/hide", methods=["POST"])
@role_required("admin")
def hide_post(kind, post_id):
    """Hide a reported comment, question or answer (its reports resolved); back to the queue."""
    return _act_on_post(kind, post_id, queries.hide_post, f"The {kind} is hidden and its reports resolved.",
                        f"the {kind} is already hidden.")


@bp.route("/posts/<any(comment, question, answer):kind>/<uuid:post_id>/dismiss", methods=["POST"])
@role_required("admin")
def dismiss_post(kind, post_id):
    """Dismiss the open reports on a post; it stays as it is."""
    return _act_on_post(kind, post_id, queries.resolve_post_reports,
                        f"The reports are dismissed; the {kind} stays as it is.",
                        f"the {kind} has no open report left.")


@bp.route("/posts/<any(comment, question, answer):kind>/<uuid:post_id>/restore", methods=["POST"])
@role_required("admin")
def restore_post(kind, post_id):
    """Show a hidden post again."""
    return _act_on_post(kind, post_id, queries.restore_post, f"The {kind} is shown again.",
                        f"the {kind} is already visible.")
