"""Administration: organization overview and platform moderation."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

# The views register themselves on bp (the import is last, on purpose).
from portal.admin import routes  # noqa: E402,F401
