"""The instructor dashboard: thin views over ``dashboard.queries``."""

from __future__ import annotations

import uuid
from datetime import datetime

from flask import abort, request, url_for
from flask_login import current_user

from portal.dashboard import queries
from portal.reviews.queries import unanswered_count
from portal.discussions.queries import unanswered_count as unanswered_questions_count
from portal.students.queries import awaiting_payment_count, waiting_count
from portal.formatting import viewer_zone
from portal.listing import token, typed_position
from portal.web import home_for, redirect_to, render, role_required
from portal.dashboard import bp


@bp.route("/")
def home():
    """Each role's start page; anonymous visitors see the public catalog (home_for)."""
    return redirect_to(home_for(current_user))


@bp.route("/dashboard")
@role_required("instructor")
def index():
    stats = queries.dashboard_stats(current_user.id)
    if stats is None:
        abort(404)
    activity, more = queries.older_activity(current_user.id)
    trend = queries.daily_trend(current_user.id, viewer_zone().key)
    return render("dashboard/index.html", stats=stats, cards=queries.CARDS, activity=activity,
                  older=_older(activity, more),
                  trend=trend, has_teaching=queries.has_teaching(current_user.id), waiting=waiting_count(),
                  unanswered=unanswered_count(), awaiting_payment=awaiting_payment_count(),
                  unanswered_questions=unanswered_questions_count())


def _cursor(prefix: str):
    """The poller's cursor from the query string: (time, id), or (None, None); bad ones are a 400."""
    moment, row_id = request.args.get(prefix), request.args.get(prefix + "_id")
    if not moment:
        return None, None
    try:
        return datetime.fromisoformat(moment), (uuid.UUID(row_id) if row_id else None)
    except ValueError:
        abort(400)


def _older(rows: list[dict], more: bool) -> str | None:
    """The link to the page after ``rows`` (by position: the list kit's token), when there is one."""
    if not more:
        return None
    last = rows[-1]
    return url_for("dashboard.activity", after=token([last["occurred_at"], last["activity_id"]]))


@bp.route("/dashboard/activity")
@role_required("instructor")
def activity():
    """Older rows (``after`` a position, paged by the list kit), newer rows (``since``, used by the
    poller), or the first page."""
    since, since_id = _cursor("since")
    if since is not None:
        rows = queries.newer_activity(current_user.id, since, since_id)
        return render("dashboard/activity.html", "dashboard/_activity_newer.html", activity=rows,
                      older=None, newest=rows[0] if rows else None)
    # A position that is not one starts from the top, as in every list.
    at = typed_position(queries.ACTIVITY_KEYS, queries.ACTIVITY.read(request.args).after)
    before, before_id = at if at is not None else (None, None)
    rows, more = queries.older_activity(current_user.id, before, before_id)
    return render("dashboard/activity.html", "dashboard/_activity_rows.html", activity=rows,
                  older=_older(rows, more))
