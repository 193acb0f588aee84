"""Administration: its pages arrive with a later issue."""

from __future__ import annotations

from flask_login import current_user

from portal.web import placeholder, role_required
from portal.admin import bp


@bp.route("/")
@role_required("admin", "org_admin")
def index():
    if current_user.role == "admin":
        return placeholder("Moderation", "Review reports, users and organizations across the platform.")
    return placeholder("Organization", "Your organization's courses, workshops, instructors and revenue.")
