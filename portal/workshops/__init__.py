"""Workshops: plan live workshops online, in person or hybrid, and follow their registrations."""

from flask import Blueprint

bp = Blueprint("workshops", __name__, url_prefix="/workshops")

# The views register themselves on bp (the import is last, on purpose).
from portal.workshops import routes  # noqa: E402,F401
