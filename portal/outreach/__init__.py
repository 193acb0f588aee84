"""Outreach, the student's side of issue 15: an invitation's link (``/invitations/<token>``:
see the course, create an account or sign in, accept) and the announcements of one's courses
(``/announcements/``). The instructor's side is in the Students area."""

from flask import Blueprint

bp = Blueprint("outreach", __name__)

from portal.outreach import routes  # noqa: E402,F401
