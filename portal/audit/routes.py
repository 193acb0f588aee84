"""The audit log page: platform admins, organization admins and instructors read the rows of
their scope (016's policy), filtered by act, subject, actor and period, newest first, paged by
position. Students have no audit log (404)."""

from __future__ import annotations

from flask import request
from flask_login import current_user

from portal.audit import bp, queries
from portal.web import render, role_required

SCOPES = {"admin": "Every recorded act on the platform.",
          "org_admin": "The recorded acts about your organization: its members, courses, workshops and money.",
          "instructor": "The recorded acts about what you own: your courses and workshops, their prices and "
                        "teams, the moderation of their reviews, your sales' refunds and payouts."}


@bp.route("/")
@role_required("admin", "org_admin", "instructor")
def index():
    """The log; an htmx request (a filter, a page) gets the list only."""
    view = queries.LIST.read(request.args)
    listing = queries.page(view, current_user).link("audit.index")
    return render("audit/index.html", "audit/_log.html", listing=listing, actions=queries.ACTIONS,
                  entities=queries.ENTITIES, scope=SCOPES[current_user.role])
