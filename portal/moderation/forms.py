"""The moderator's decision on a review. Hiding and restoring need a reason (it is kept on the
review, told to its author and written to the audit log); the limit mirrors 002's CHECK on
``course_reviews.moderation_reason`` (char_length <= 1000). Dismissing the reports needs none."""

from __future__ import annotations

from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from portal.courses.forms import lines
from portal.forms import BaseForm

REASON_MAX = 1000
REASON_REQUIRED = "Say why: the author reads it, and it is kept in the audit log."
REASON_TOO_LONG = f"At most {REASON_MAX:,} characters."


class DecisionForm(BaseForm):
    reason = TextAreaField("Reason", filters=[lines],
                           validators=[DataRequired(REASON_REQUIRED),
                                       Length(min=1, max=REASON_MAX, message=REASON_TOO_LONG)],
                           description="Told to the review's author and kept in the audit log.")


def decision_form(review_id, **kwargs) -> DecisionForm:
    """One form per review on the page, each with its own field id (the posted name stays ``reason``)."""
    form = DecisionForm(**kwargs)
    form.reason.id = form.reason.label.field_id = f"reason-{review_id}"
    return form
