"""Revenue: the pages arrive with their own issue; the area and its access rule exist now."""

from __future__ import annotations

from flask import Blueprint

from portal.web import placeholder, role_required

bp = Blueprint("revenue", __name__, url_prefix="/revenue")


@bp.route("/")
@role_required("instructor")
def index():
    return placeholder("Revenue", "Your sales, refunds, fees and payouts, by period and by course.")
