"""Reviews: read what students say and answer their reviews."""

from flask import Blueprint

bp = Blueprint("reviews", __name__, url_prefix="/reviews")

# The views register themselves on bp (the import is last, on purpose).
from portal.reviews import routes  # noqa: E402,F401
