"""The student's forms: a review of a course, a report of a review. Limits mirror the SQL:

* 002 ``course_reviews``: rating 1-5 (required); content quality, instructor
  and value ratings 1-5 or none; title <= 200 characters; text <= 5000.
* 005 ``review_reports``: reason one of ``review_report_reason``; details <=
  1000 characters and required (not blank) when the reason is ``other``
  (CHECK other_reports_say_why).

Text is plain: it is stored as typed (trimmed, Windows line ends as ``\\n`` so
the length counted is the length stored) and escaped on output.
"""

from __future__ import annotations

from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from portal.courses.forms import clean, lines, none_if_empty
from portal.forms import BaseForm
from portal.models import REVIEW_REPORT_REASONS

TITLE_MAX = 200
TEXT_MAX = 5000
DETAILS_MAX = 1000
STARS = {5: "5 — Excellent", 4: "4 — Good", 3: "3 — Average", 2: "2 — Poor", 1: "1 — Bad"}
RATING_REQUIRED = "Choose a rating from 1 to 5 stars."
RATING_RANGE = "A rating is a whole number from 1 to 5."
REASONS = {"spam": "Spam or advertising", "offensive": "Offensive or abusive", "off_topic": "Off topic",
           "not_a_review": "Not a review of this course", "other": "Something else"}
assert tuple(REASONS) == REVIEW_REPORT_REASONS, "the reasons are the database's enum"
REASON_REQUIRED = "Choose why you are reporting this review."
DETAILS_REQUIRED = "Tell us what is wrong with this review (up to 1,000 characters)."
STAR_CHOICES = [SelectChoice(stars, text) for stars, text in STARS.items()]
REASON_CHOICES = [SelectChoice(reason, text) for reason, text in REASONS.items()]


def rating_value(value):
    """A submitted rating as an int; empty as None; anything else is not a rating."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if not text.isdigit():
        raise ValueError(RATING_RANGE)
    return int(text)


class _ChoiceOrNothing:
    """A choice field that leaves an empty answer to its InputRequired / Optional
    validator (one message, not two) and says plainly when the answer is not a choice."""

    def pre_validate(self, form):
        if self.process_errors or self.data is None:
            return
        if not any(choice.selected for choice in self.iter_choices()):
            raise ValidationError(self.invalid_choice_message)


class RatingField(_ChoiceOrNothing, RadioField):
    def __init__(self, label, **kwargs):
        super().__init__(label, coerce=rating_value, choices=STAR_CHOICES,
                         validators=[InputRequired(RATING_REQUIRED)],
                         invalid_value_message=RATING_RANGE, invalid_choice_message=RATING_RANGE, **kwargs)
        self.type = "RadioField"  # the field() macro draws a radio group as a fieldset with a legend


class OptionalRatingField(_ChoiceOrNothing, SelectField):
    def __init__(self, label, **kwargs):
        super().__init__(label, coerce=rating_value, choices=[SelectChoice("", "Not rated"), *STAR_CHOICES],
                         validators=[Optional()], invalid_value_message=RATING_RANGE,
                         invalid_choice_message=RATING_RANGE, **kwargs)


class ReviewForm(BaseForm):
    rating = RatingField("Your rating")
    title = StringField("Title", filters=[clean, none_if_empty],
                        validators=[Optional(), Length(max=TITLE_MAX, message=f"At most {TITLE_MAX} characters.")],
                        description="Optional: the review in a few words.")
    review_text = TextAreaField("Your review", filters=[lines, none_if_empty],
                                validators=[Optional(), Length(max=TEXT_MAX,
                                                               message=f"At most {TEXT_MAX:,} characters.")],
                                description="Optional: what worked for you, and what did not. Plain text.")
    content_quality_rating = OptionalRatingField("Content quality")
    instructor_rating = OptionalRatingField("The instructor")
    value_rating = OptionalRatingField("Value for money")

    COLUMNS = ("rating", "title", "review_text", "content_quality_rating", "instructor_rating", "value_rating")

    def values(self) -> dict:
        return {name: self[name].data for name in self.COLUMNS}


def review_data(review: dict | None) -> dict:
    return {name: review[name] for name in ReviewForm.COLUMNS} if review else {}


class ReasonField(_ChoiceOrNothing, RadioField):
    def __init__(self, label, **kwargs):
        super().__init__(label, choices=REASON_CHOICES, validators=[InputRequired(REASON_REQUIRED)],
                         invalid_choice_message=REASON_REQUIRED, **kwargs)
        self.type = "RadioField"


class ReportForm(BaseForm):
    reason = ReasonField("Why are you reporting this review?")
    details = TextAreaField("Details", filters=[lines, none_if_empty],
                            validators=[Optional(), Length(max=DETAILS_MAX,
                                                           message=f"At most {DETAILS_MAX:,} characters.")],
                            description="Required when you choose “Something else”. Moderators read this; "
                                        "the author does not.")

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.reason.data == "other" and not self.details.data and not self.details.errors:
            self.details.errors = [*self.details.errors, DETAILS_REQUIRED]
            valid = False
        return valid

    def values(self) -> dict:
        return {"reason": self.reason.data, "details": self.details.data}
