"""Workshops: instructors plan and run live sessions (online, in person or hybrid); students register,
attend, give feedback and add them to their calendar (issue 14).

routes.py (the instructor's list, editor, lifecycle, registrations, feedback), student.py (the
catalog, a workshop's page, registering, my workshops, feedback, .ics and the feed), calendar.py
(iCalendar), queries.py (named queries), forms.py.
"""

from flask import Blueprint

bp = Blueprint("workshops", __name__, url_prefix="/workshops")

# The views register themselves on bp (the imports are last, on purpose).
from portal.workshops import routes, student  # noqa: E402,F401
