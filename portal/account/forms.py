"""The account's forms. Limits mirror users' CHECK constraints; passwords follow sign-up's rules."""

from __future__ import annotations

from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from portal.auth.forms import EMAIL_PATTERN, new_password, repeat_password
from portal.forms import BaseForm, strip


def current_password():
    return PasswordField("Current password", validators=[
        DataRequired("Enter your current password."), Length(max=128)])


class NameForm(BaseForm):
    full_name = StringField("Full name", filters=[strip], validators=[
        DataRequired("Enter your name."), Length(max=200, message="At most 200 characters.")])
    avatar_url = StringField("Photo address", filters=[strip, lambda v: v or None],
                             description="An https:// address of a square picture (the portal hosts no files yet).",
                             validators=[Optional(), Length(max=500, message="At most 500 characters."),
                                         Regexp(r"^https://\S+$", message="Use an https:// address.")])


class EmailChangeForm(BaseForm):
    new_email = EmailField("New email address", filters=[strip], validators=[
        DataRequired("Enter the new address."), Length(max=254, message="At most 254 characters."),
        Regexp(EMAIL_PATTERN, message="Enter an email address like name@example.com.")])
    email_password = current_password()


class PasswordChangeForm(BaseForm):
    current = current_password()
    password = new_password()
    confirm = repeat_password()


class DeleteAccountForm(BaseForm):
    delete_password = current_password()
    understood = BooleanField("I understand that this cannot be undone.",
                              validators=[DataRequired("Tick the box to confirm.")])
