"""Courses: list, create, edit, lifecycle. The curriculum builder, the team and
the insight page are view modules of the same blueprint, imported below."""

from __future__ import annotations

from portal.courses.blueprint import bp
from portal.web import placeholder, role_required


@bp.route("/")
@role_required("instructor")
def index():
    return placeholder("Courses", "Create, structure, publish and co-teach your courses.")


# The other view modules register their routes on ``bp`` when imported.
from portal.courses import builder, insight, team  # noqa: E402,F401
