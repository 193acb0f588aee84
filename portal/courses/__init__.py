"""Courses: the instructor's workbench, one blueprint (``bp``, /courses) in four sub-areas.

* here: the list, creating a course, its details and lifecycle (routes.py,
  queries.py, forms.py), who may do what (access.py), Markdown (markdown.py);
* builder/: the curriculum (modules, lessons, quizzes) and drip release;
* team/: co-instructors and their permissions;
* insight/: a course's figures and charts.

Each sub-area has its own routes.py (views on ``bp``), queries.py and forms.py.
"""

from flask import Blueprint

bp = Blueprint("courses", __name__, url_prefix="/courses")

# The views register themselves on bp (the imports are last, on purpose).
from portal.courses import routes  # noqa: E402,F401
from portal.courses.builder import routes as builder_routes  # noqa: E402,F401
from portal.courses.insight import routes as insight_routes  # noqa: E402,F401
from portal.courses.team import routes as team_routes  # noqa: E402,F401
