"""Revenue: your sales, refunds, fees and payouts, by period and by course."""

from flask import Blueprint

bp = Blueprint("revenue", __name__, url_prefix="/revenue")

# The views register themselves on bp (the import is last, on purpose).
from portal.revenue import routes  # noqa: E402,F401
