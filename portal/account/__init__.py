"""The account, for every role: name and photo, email address, password, sessions, one's data,
and closing the account (011)."""

from flask import Blueprint

bp = Blueprint("account", __name__, url_prefix="/account")

# The views register themselves on bp (the import is last, on purpose).
from portal.account import routes  # noqa: E402,F401
