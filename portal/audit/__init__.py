"""The audit log: who did what, when, before and after, as the database recorded it (016)."""

from flask import Blueprint

bp = Blueprint("audit", __name__, url_prefix="/audit")

# The views register themselves on bp (the import is last, on purpose).
from portal.audit import routes  # noqa: E402,F401
