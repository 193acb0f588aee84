"""The instructor's answer to a review. The limit mirrors 002's CHECK on
``course_reviews.instructor_response`` (char_length <= 5000); an answer has at least
one character that is not blank (an empty answer is no answer). Plain text, stored as
typed (trimmed, Windows line ends as ``\\n`` so the length counted is the length
stored) and escaped on output."""

from __future__ import annotations

from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from portal.courses.forms import lines
from portal.forms import BaseForm

RESPONSE_MAX = 5000
RESPONSE_REQUIRED = "Write your response before sending it."
RESPONSE_TOO_LONG = f"At most {RESPONSE_MAX:,} characters."


class ResponseForm(BaseForm):
    response = TextAreaField("Your response", filters=[lines],
                             validators=[DataRequired(RESPONSE_REQUIRED),
                                         Length(min=1, max=RESPONSE_MAX, message=RESPONSE_TOO_LONG)],
                             description="Public, under the review. The student is told when you first answer.")


def response_form(review_id, **kwargs) -> ResponseForm:
    """The form of one review: the page holds one per review, so each has its own field id (the
    posted name stays ``response``)."""
    form = ResponseForm(**kwargs)
    form.response.id = form.response.label.field_id = f"response-{review_id}"
    return form
