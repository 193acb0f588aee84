"""The platform admin's forms. A reason is optional and at most 500 characters (017's
``admin_reason``); the destructive acts (a role change, a deactivation) ask the admin to tick a
box that says what will happen, so a slip of the mouse changes nothing (the form comes back, 422).
Limits mirror the database's checks (organizations.name 2-200 characters, slug's pattern)."""

from __future__ import annotations

from wtforms import BooleanField, EmailField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from portal.admin.accounts import ASSIGNABLE
from portal.auth.forms import EMAIL_PATTERN
from portal.courses.forms import choices, lines
from portal.forms import BaseForm, strip

REASON_MAX = 500
CONFIRM = "Tick the box to confirm."
SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"


def reason_field():
    return TextAreaField("Reason (optional)", filters=[lines],
                         validators=[Optional(), Length(max=REASON_MAX, message=f"At most {REASON_MAX} characters.")],
                         description="Sent to the person with the notice.")


class RoleForm(BaseForm):
    role = SelectField("Role", choices=choices(ASSIGNABLE.items()),
                       description="An organization admin belongs to an organization first. The platform "
                                   "admin role is the operators' to give.")
    reason = reason_field()
    confirm = BooleanField("I understand this changes what the person can see and do",
                           validators=[DataRequired(CONFIRM)])


class ActiveForm(BaseForm):
    """Deactivate (confirmed: signed out everywhere at once) or reactivate."""
    reason = reason_field()
    confirm = BooleanField("I understand the person is signed out everywhere and cannot sign in",
                           validators=[Optional()])


class MembershipForm(BaseForm):
    organization = SelectField("Organization", choices=[], validate_choice=True,
                               description="Leaving an organization ends an organization admin's role there. "
                                           "The first 200 organizations by name are listed; for another, add "
                                           "the person by email on that organization's page.")
    reason = reason_field()


class InstructorForm(BaseForm):
    verified = BooleanField("Verified instructor")
    featured = BooleanField("Featured in the catalog")
    reason = reason_field()


class OrganizationForm(BaseForm):
    name = StringField("Name", filters=[strip], validators=[
        DataRequired("Give the organization a name."), Length(min=2, max=200, message="From 2 to 200 characters.")])
    slug = StringField("Web address (optional)", filters=[strip], validators=[
        Optional(), Length(max=60, message="At most 60 characters."),
        Regexp(SLUG_PATTERN, message="Lower-case letters and digits, words joined by single hyphens.")],
        description="Made from the name when left empty, e.g. acme-learning.")


class RenameForm(BaseForm):
    name = StringField("Name", filters=[strip], validators=[
        DataRequired("Give the organization a name."), Length(min=2, max=200, message="From 2 to 200 characters.")])


class MemberForm(BaseForm):
    email = EmailField("Email of the person to add", filters=[strip], validators=[
        DataRequired("Enter their email address."), Length(max=254),
        Regexp(EMAIL_PATTERN, message="Enter an email address like name@example.com.")])


def own_ids(form, prefix: str):
    """The form with ids of its own (``prefix-name``): a user's page holds four forms, each with a
    reason field and two with a confirmation box, and a label must name its own control (the
    posted names stay as they are)."""
    for field in form:
        if field.type != "CSRFTokenField":
            field.id = field.label.field_id = f"{prefix}-{field.name}"
    return form
