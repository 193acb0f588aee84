"""Reviews: the pages arrive with their own issue; the area and its access rule exist now."""

from __future__ import annotations

from flask import Blueprint

from portal.web import placeholder, role_required

bp = Blueprint("reviews", __name__, url_prefix="/reviews")


@bp.route("/")
@role_required("instructor")
def index():
    return placeholder("Reviews", "Read what students say and answer their reviews.")
