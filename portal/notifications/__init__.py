"""Notifications: the bell, the notices page, unsubscribing from an email, and in
development the captured mailbox (``/dev/mail``).

Who is told what, and by which channel, is decided in the database (``schema/010``):
a notice is written by a trigger in the transaction of the act that causes it; the
worker (``portal/jobs``) emails it when its recipient wants it by email.
"""

from flask import Blueprint

bp = Blueprint("notifications", __name__)

# The views register themselves on bp (the import is last, on purpose).
from portal.notifications import routes  # noqa: E402,F401
