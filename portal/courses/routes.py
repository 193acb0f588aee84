"""Courses: the pages arrive with their own issue; the area and its access rule exist now."""

from __future__ import annotations

from flask import Blueprint

from portal.web import placeholder, role_required

bp = Blueprint("courses", __name__, url_prefix="/courses")


@bp.route("/")
@role_required("instructor")
def index():
    return placeholder("Courses", "Create, structure, publish and co-teach your courses.")
