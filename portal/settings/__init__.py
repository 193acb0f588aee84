"""Settings: your public profile, notifications, payouts and time zone."""

from flask import Blueprint

bp = Blueprint("settings", __name__, url_prefix="/settings")

# The views register themselves on bp (the import is last, on purpose).
from portal.settings import profile, routes  # noqa: E402,F401
