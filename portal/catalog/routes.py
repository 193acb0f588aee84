"""The student side: its pages arrive with the Learning issue."""

from __future__ import annotations

from flask import Blueprint

from portal.web import placeholder

bp = Blueprint("catalog", __name__)


@bp.route("/catalog/")
def index():
    return placeholder("Catalog", "Browse published courses and workshops, and enroll.")
