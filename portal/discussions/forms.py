"""The discussion's forms. Limits mirror 022's CHECKs (comments, answers and a question's details
5,000 characters, a title 3 to 200, a hand-in 20,000 and its link 2,000, feedback 5,000, a score
0 to 100). Plain text, stored as typed (trimmed, Windows line ends as ``\\n``), escaped on output."""

from __future__ import annotations

from wtforms.fields.choices import SelectChoice
from wtforms import DecimalField, HiddenField, RadioField, StringField, TextAreaField
from wtforms.validators import (DataRequired, InputRequired, Length, NumberRange, Optional, Regexp, StopValidation,
                                ValidationError)

from portal.courses.forms import lines
from portal.forms import BaseForm, strip

TEXT_MAX = 5000
SUBMISSION_MAX = 20000
LINK_MAX = 2000
REASONS = {"spam": "Spam or advertising", "offensive": "Offensive or abusive", "off_topic": "Off topic",
           "other": "Something else"}


class _Prefixed(BaseForm):
    """A form whose fields' ids carry its kind ("comment-body", "question-body"...): one lesson page holds
    several of these forms, and ids are unique on a page. The posted names stay the fields' own."""
    ID_PREFIX = ""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, f in self._fields.items():
            if name != "csrf_token":
                f.id = f.label.field_id = f"{self.ID_PREFIX}-{name.replace('_', '-')}"


class CommentForm(_Prefixed):
    ID_PREFIX = "comment"
    body = TextAreaField("Your comment", filters=[lines],
                         validators=[DataRequired("Write your comment first."),
                                     Length(max=TEXT_MAX, message=f"At most {TEXT_MAX:,} characters.")])
    parent = HiddenField()


class QuestionForm(_Prefixed):
    ID_PREFIX = "question"
    title = StringField("Your question", filters=[strip],
                        validators=[DataRequired("Write your question first."),
                                    Length(min=3, max=200, message="From 3 to 200 characters.")])
    body = TextAreaField("Details (optional)", filters=[lines],
                         validators=[Length(max=TEXT_MAX, message=f"At most {TEXT_MAX:,} characters.")])


class AnswerForm(_Prefixed):
    ID_PREFIX = "answer"
    body = TextAreaField("Your answer", filters=[lines],
                         validators=[DataRequired("Write your answer first."),
                                     Length(max=TEXT_MAX, message=f"At most {TEXT_MAX:,} characters.")])


class ReportForm(_Prefixed):
    ID_PREFIX = "report"
    reason = RadioField("Why are you reporting this?", choices=[SelectChoice(k, v) for k, v in REASONS.items()],
                        validators=[DataRequired("Choose a reason.")])
    details = TextAreaField("Details", filters=[lines],
                            validators=[Length(max=1000, message="At most 1,000 characters.")])

    def validate_details(self, field):
        if self.reason.data == "other" and not field.data:
            raise ValidationError("Say what is wrong when you choose “Something else”.")


class SubmissionForm(_Prefixed):
    ID_PREFIX = "submission"
    body = TextAreaField("Your answer", filters=[lines],
                         validators=[Length(max=SUBMISSION_MAX, message=f"At most {SUBMISSION_MAX:,} characters.")])
    link_url = StringField("Link to your work (optional)", filters=[strip],
                           validators=[Optional(), Length(max=LINK_MAX, message=f"At most {LINK_MAX:,} characters."),
                                       Regexp(r"^https?://\S+$", message="A web address starting with https://.")],
                           description="A document, repository or video you share; files are not uploaded here.")

    def validate_body(self, field):
        if not field.data and not (self.link_url.data or "").strip():
            raise ValidationError("Write your answer or give a link to your work.")


def _finite(form, field):
    """NaN, sNaN and Infinity parse as decimals but compare with nothing (NumberRange would raise)."""
    if field.data is not None and not field.data.is_finite():
        field.errors[:] = []
        raise StopValidation("A score from 0 to 100.")


class GradeForm(_Prefixed):
    ID_PREFIX = "grade"
    score = DecimalField("Score (0 to 100)", places=2,
                         validators=[_finite, InputRequired("Give a score."),
                                     NumberRange(min=0, max=100, message="A score from 0 to 100.")])
    feedback = TextAreaField("Feedback to the student", filters=[lines],
                             validators=[Length(max=TEXT_MAX, message=f"At most {TEXT_MAX:,} characters.")])

    def validate_score(self, field):
        if field.data is not None and field.data.is_finite() and field.data.as_tuple().exponent < -2:
            raise ValidationError("At most two decimals.")
