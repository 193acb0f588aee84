"""The instructor's home: figures, recent activity and a 30-day trend."""

from flask import Blueprint

bp = Blueprint("dashboard", __name__)

# The views register themselves on bp (the import is last, on purpose).
from portal.dashboard import routes  # noqa: E402,F401
