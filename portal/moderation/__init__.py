"""Moderation: platform admins deal with reported reviews (hide, restore, dismiss the reports)."""

from flask import Blueprint

bp = Blueprint("moderation", __name__, url_prefix="/admin/moderation")

# The views register themselves on bp (the import is last, on purpose).
from portal.moderation import routes  # noqa: E402,F401
