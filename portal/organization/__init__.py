"""The organization admin's home: their organization's instructors, courses, workshops,
enrollments and revenue, read-only, with drill-downs and CSV exports (issue 17)."""

from flask import Blueprint

bp = Blueprint("organization", __name__, url_prefix="/organization")

# The views register themselves on bp (the import is last, on purpose).
from portal.organization import routes  # noqa: E402,F401
