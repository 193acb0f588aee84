"""Sign-up, sign-in and sign-out."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

# The views register themselves on bp (the import is last, on purpose).
from portal.auth import routes  # noqa: E402,F401
