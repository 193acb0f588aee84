"""Students: follow each student's progress and engagement across your courses."""

from flask import Blueprint

bp = Blueprint("students", __name__, url_prefix="/students")

# The views register themselves on bp (the imports are last, on purpose).
from portal.students import routes  # noqa: E402,F401
from portal.students import roster_views  # noqa: E402,F401
from portal.students import learner  # noqa: E402,F401  (a student's page, notes, the activity timeline)
from portal.students import bulk, announcements  # noqa: E402,F401
