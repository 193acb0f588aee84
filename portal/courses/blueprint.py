"""The courses blueprint, shared by its view modules (routes, builder, team, insight)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("courses", __name__, url_prefix="/courses")
