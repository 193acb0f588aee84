"""The invitation's sign-up: a name and a password; the address is the invited one (the link
reached it), so it is not asked for. Limits as portal.auth.forms.SignUpForm's."""

from __future__ import annotations

from wtforms import StringField
from wtforms.validators import DataRequired, Length

from portal.auth.forms import new_password, repeat_password
from portal.forms import BaseForm, strip


class InvitationSignUpForm(BaseForm):
    full_name = StringField("Full name", filters=[strip], validators=[
        DataRequired("Enter your name."), Length(max=200, message="At most 200 characters.")])
    password = new_password("Password")
    confirm = repeat_password()
