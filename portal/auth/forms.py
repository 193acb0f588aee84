"""Auth forms. Their limits mirror the users table's CHECK constraints."""

from __future__ import annotations

from wtforms import EmailField, PasswordField, RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Regexp

from portal.forms import BaseForm, strip

# users.email: '^[^@\s]+@[^@\s]+\.[^@\s]+$', at most 254 characters.
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class SignInForm(BaseForm):
    email = EmailField("Email", filters=[strip], validators=[
        DataRequired("Enter your email."), Length(max=254)])
    password = PasswordField("Password", validators=[
        DataRequired("Enter your password."), Length(max=128)])


def new_password(label: str = "New password"):
    """A new password (ASVS 2.1.1/2.1.2: at least 12 characters, and long passphrases allowed)."""
    return PasswordField(label, description="At least 12 characters.", validators=[
        DataRequired("Choose a password."),
        Length(min=12, max=128, message="Use 12 to 128 characters.")])


def repeat_password():
    return PasswordField("Repeat the new password", validators=[
        DataRequired("Type the new password again."), EqualTo("password", message="The two passwords differ.")])


class ForgotPasswordForm(BaseForm):
    email = EmailField("Email", filters=[strip], validators=[
        DataRequired("Enter your email."), Length(max=254, message="At most 254 characters."),
        Regexp(EMAIL_PATTERN, message="Enter an email address like name@example.com.")])


class ResetPasswordForm(BaseForm):
    password = new_password()
    confirm = repeat_password()


class SignUpForm(BaseForm):
    full_name = StringField("Full name", filters=[strip], validators=[
        DataRequired("Enter your name."), Length(max=200, message="At most 200 characters.")])
    email = EmailField("Email", filters=[strip], validators=[
        DataRequired("Enter your email."), Length(max=254, message="At most 254 characters."),
        Regexp(EMAIL_PATTERN, message="Enter an email address like name@example.com.")])
    password = new_password("Password")
    role = RadioField("I want to", default="student", choices=[
        SelectChoice("student", "Learn: take courses and join workshops"),
        SelectChoice("instructor", "Teach: create courses and run workshops")],
        validators=[DataRequired("Choose how you will use the portal.")])
