"""Discussions: a lesson's comments, questions and answers, and assignment hand-ins and grades
(issue 19). The student's side sits on the lesson player; the teacher's is the inbox of
unanswered questions and the grading queue."""

from flask import Blueprint

bp = Blueprint("discussions", __name__, url_prefix="/discussions")

# The views register themselves on bp (the import is last, on purpose).
from portal.discussions import routes  # noqa: E402,F401
