"""The student's learning: its pages arrive with the Learning issue."""

from __future__ import annotations

from flask import Blueprint

from portal.web import placeholder, role_required

bp = Blueprint("learning", __name__)


@bp.route("/learning/")
@role_required("student")
def index():
    return placeholder("My learning", "Your courses, your progress and your certificates.")
