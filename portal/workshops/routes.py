"""Workshops: the pages arrive with their own issue; the area and its access rule exist now."""

from __future__ import annotations


from portal.web import placeholder, role_required
from portal.workshops import bp


@bp.route("/")
@role_required("instructor")
def index():
    return placeholder("Workshops", "Plan live workshops online, in person or hybrid, and follow their registrations.")
