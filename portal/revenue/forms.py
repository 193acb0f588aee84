"""The revenue area's forms: a refund (the instructor's, in full; an admin's, in full or in part),
a payout's creation and its payment. Limits mirror 020: a reason of 1 to 500 characters, an amount
of whole cents above 0 (at most the sale, which the database checks), a reference of at most 200."""

from __future__ import annotations

from decimal import Decimal

from wtforms import BooleanField, DecimalField, HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, StopValidation, ValidationError

from portal.courses.forms import lines
from portal.forms import BaseForm, strip

REASON_MAX = 500
REASON_REQUIRED = "Say why the sale is refunded."
CONFIRM = "Tick the box to confirm the refund."


AMOUNT_MAX = Decimal("99999999.99")   # numeric(12,2)
WHOLE_CENTS = "Enter an amount in whole cents"


def _finite(form, field):
    """First: a number the other checks can compare (not NaN, sNaN, an infinity or 1e999999)."""
    if field.data is not None and (not field.data.is_finite() or abs(field.data) > AMOUNT_MAX):
        raise StopValidation(f"{WHOLE_CENTS}, at most {AMOUNT_MAX:,}.")


def _cents(form, field):
    if field.data is not None and field.data != field.data.quantize(Decimal("0.01")):
        raise ValidationError("Use whole cents (at most two decimals).")


class RefundForm(BaseForm):
    reason = TextAreaField("Reason", filters=[lines],
                           validators=[DataRequired(REASON_REQUIRED),
                                       Length(max=REASON_MAX, message=f"At most {REASON_MAX} characters.")],
                           description="The student sees it on their receipt.")
    confirm = BooleanField("I understand the student is refunded and loses access to what they bought",
                           validators=[DataRequired(CONFIRM)])


class AdminRefundForm(RefundForm):
    amount = DecimalField("Amount to refund", places=2, validators=[
        Optional(), _finite, NumberRange(min=Decimal("0.01"), message="Refund more than 0."), _cents],
        description="Leave empty to refund all that is left of the sale.")


class CreatePayoutForm(BaseForm):
    instructor_id = HiddenField(validators=[DataRequired()])
    currency = HiddenField(validators=[DataRequired(), Length(min=3, max=3)])


class CancelPayoutForm(BaseForm):
    confirm = BooleanField("Cancel it: its rows wait for the next payout",
                           validators=[DataRequired("Tick the box to confirm cancelling this payout.")])


class PayoutPaidForm(BaseForm):
    reference = StringField("Payment reference", filters=[strip],
                            validators=[Optional(), Length(max=200, message="At most 200 characters.")],
                            description="The bank transfer's reference, for the statement (optional).")
    confirm = BooleanField("I have sent this amount to the instructor",
                           validators=[DataRequired("Tick the box to confirm the payment was sent.")])
