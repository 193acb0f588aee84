"""Students: the pages arrive with their own issue; the area and its access rule exist now."""

from __future__ import annotations

from flask import Blueprint

from portal.web import placeholder, role_required

bp = Blueprint("students", __name__, url_prefix="/students")


@bp.route("/")
@role_required("instructor")
def index():
    return placeholder("Students", "Follow each student's progress and engagement across your courses.")
