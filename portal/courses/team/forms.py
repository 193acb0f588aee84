"""Forms of the team page: add a co-teacher by email, change one's role and
permissions. Their limits mirror the database:

* ``users.email`` is at most 254 characters and looks like ``a@b.c``;
* ``course_instructors.role`` is a ``course_instructor_role``, and
  ``add_course_instructor`` refuses 'primary' (a course has one primary
  instructor, its owner), so the form offers the other two;
* ``course_instructors.permissions`` holds only the five known flags, each a
  boolean (004's ``permissions_are_known_flags``): the form sends all five.

One rule the database does not state but row-level security implies: the
modules and lessons an editor edits are readable only with ``view_content``
(``course_modules_read``), so ``edit_content`` always comes with it.
"""

from __future__ import annotations

from wtforms import BooleanField, EmailField, RadioField
from wtforms.fields.choices import SelectChoice
from wtforms.fields.core import Label
from wtforms.validators import DataRequired, InputRequired, Length, Regexp

from portal.auth.forms import EMAIL_PATTERN
from portal.courses.access import PERMISSION_LABELS, PERMISSIONS
from portal.forms import BaseForm, strip

TEAM_ROLES = (("co-instructor", "Co-instructor"), ("assistant", "Assistant"))
ROLE_LABELS = dict(TEAM_ROLES)

PERMISSION_HINTS = {
    "view_content": "See the modules, lessons, students' progress and the insight page.",
    "edit_content": "Change the details and the curriculum. Includes View content: an editor must "
                    "see what they edit.",
    "manage_students": "Approve enrollments and unlock drip content early for a student.",
    "view_revenue": "See what the course earns.",
    "respond_reviews": "Answer students' reviews.",
}
# What a new co-teacher gets unless the owner says otherwise (002's column default).
DEFAULT_PERMISSIONS = frozenset({"view_content"})


def _role_field():
    return RadioField("Role", default="co-instructor",
                      choices=[SelectChoice(value, label) for value, label in TEAM_ROLES],
                      validators=[InputRequired("Choose a role.")])


def _permission_field(name: str):
    return BooleanField(PERMISSION_LABELS[name], default=name in DEFAULT_PERMISSIONS,
                        description=PERMISSION_HINTS[name])


class PermissionsForm(BaseForm):
    """The role and the five permission flags, shared by both forms."""
    role = _role_field()
    view_content = _permission_field("view_content")
    edit_content = _permission_field("edit_content")
    manage_students = _permission_field("manage_students")
    view_revenue = _permission_field("view_revenue")
    respond_reviews = _permission_field("respond_reviews")

    def permission_fields(self):
        return [self[name] for name in PERMISSIONS]

    def permissions(self) -> dict[str, bool]:
        """All five flags, with edit_content implying view_content."""
        granted = {name: bool(self[name].data) for name in PERMISSIONS}
        if granted["edit_content"]:
            granted["view_content"] = True
        return granted

    def show(self, permissions: dict[str, bool]) -> None:
        """Reflect what was saved (after the edit-implies-view rule)."""
        for name, value in permissions.items():
            self[name].data = value


class AddTeacherForm(PermissionsForm):
    email = EmailField("Email of the instructor", filters=[strip],
                       description="They need an active instructor account on the portal.",
                       validators=[DataRequired("Enter the instructor's email."),
                                   Length(max=254, message="At most 254 characters."),
                                   Regexp(EMAIL_PATTERN, message="Enter an email address like name@example.com.")])


class TeacherForm(PermissionsForm):
    """One team member's role and permissions (the row's form)."""


def suffix_ids(form: BaseForm, suffix: str) -> BaseForm:
    """Give every field (and its label) an id ending in ``suffix``, so that one
    page can hold a form per team member with unique ids; names stay as they are."""
    for f in form:
        f.id = f"{f.id}-{suffix}"
        f.label = Label(f.id, f.label.text)
    return form
