"""Enrollment and payment: the queries of enrolling and paying (used by the catalog's
enrolling views and the students area's approval queue), and the checkout pages and the
payment webhook (/checkout, /payments)."""

from flask import Blueprint

bp = Blueprint("enrollment", __name__)

# The views register themselves on bp (the import is last, on purpose).
from portal.enrollment import routes  # noqa: E402,F401
