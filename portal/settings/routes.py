"""Settings: the pages arrive with their own issue; the area and its access rule exist now."""

from __future__ import annotations


from portal.web import placeholder, role_required
from portal.settings import bp


@bp.route("/")
@role_required("instructor")
def index():
    return placeholder("Settings", "Your public profile, notifications, payouts and time zone.")
