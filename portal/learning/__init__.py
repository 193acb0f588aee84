"""Taking a course: my learning, the lesson player, quizzes, progress and certificates.

routes.py (the ``learning`` blueprint, thin views), queries.py (the named
queries, under the request's role), certificates.py (the PDF).
"""

from flask import Blueprint

bp = Blueprint("learning", __name__)

# The views register themselves on bp (the import is last, on purpose).
from portal.learning import routes  # noqa: E402,F401
