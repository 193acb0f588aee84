"""The student side: the course catalog and the student's own learning."""

from flask import Blueprint

bp = Blueprint("catalog", __name__)

# The views register themselves on bp (the import is last, on purpose).
from portal.catalog import routes  # noqa: E402,F401
from portal.catalog.enrolling import routes as enrolling_routes  # noqa: E402,F401
