"""The one form of this area with a field: the test provider's decline reason.

Its limit mirrors the SQL: ``checkouts.failure_reason`` holds at most 500
characters (apply_payment_event trims to it too); an empty reason becomes the
database's default, "The payment was declined.". Every other form here is a
button: its only field is the CSRF token.
"""

from __future__ import annotations

from wtforms import StringField
from wtforms.validators import Length

from portal.courses.forms import clean
from portal.forms import BaseForm
from portal.payments import REASON_MAX

DEFAULT_DECLINE_REASON = "Your card was declined (test card 4000 0000 0000 0002)."


class DeclineForm(BaseForm):
    reason = StringField(
        "Why the test payment fails", default=DEFAULT_DECLINE_REASON,
        filters=[clean],
        validators=[Length(max=REASON_MAX, message=f"Keep the reason under {REASON_MAX} characters.")],
        description="The message the student will see, as a card processor would send it.")
