"""Forms of the curriculum builder and of drip release.

Limits mirror the SQL (001's course_modules / course_lessons CHECKs, 004's
quiz shape and drip rules), so the database's refusal is a last resort and
the person sees a message on the field instead:

* module title 1..200 characters (trimmed), description <= 5000;
* lesson title 1..200, body <= 100000, video_url ^https?:// (required for a
  video lesson), duration 0..1440 minutes, passing score 0..100 (required for
  a quiz lesson);
* a quiz: at most 100 questions, each with a prompt, 2..10 choices and the
  index of the correct one;
* a drip rule: a number of days 0..3650, or a real date written YYYY-MM-DD.
"""

from __future__ import annotations

import uuid
from datetime import date

from wtforms import (BooleanField, DateField, FieldList, Form, FormField, IntegerField, SelectField,
                     StringField, TextAreaField, URLField)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from portal.forms import BaseForm, strip
from portal.models import LESSON_CONTENT_TYPES

TITLE_MAX = 200
MODULE_DESCRIPTION_MAX = 5000
BODY_MAX = 100_000
URL_MAX = 2048
DURATION_MAX = 1440
QUESTIONS_MAX = 100
CHOICES_MIN, CHOICES_MAX = 2, 10
DRIP_DAYS_MAX = 3650

LESSON_TYPE_LABELS = {"text": "Text", "video": "Video", "quiz": "Quiz", "assignment": "Assignment"}
LESSON_TYPE_CHOICES = [SelectChoice(kind, LESSON_TYPE_LABELS[kind]) for kind in LESSON_CONTENT_TYPES]
HTTP_URL = r"^https?://\S+$"
URL_MESSAGE = "Enter a web address that starts with http:// or https://."


def blank_to_none(value):
    value = strip(value)
    return value or None


def add_error(field, message: str) -> None:
    """Append a message to a field after validation (WTForms keeps a tuple until then)."""
    field.errors = [*field.errors, message]


def with_ids(form, prefix: str):
    """Give every visible field of ``form`` a page-unique id (``prefix-name``), label included:
    the same form appears once per module, or per open lesson, on one page. Idempotent."""
    for field in form:
        _prefix_id(field, prefix)
    return form


def _prefix_id(field, prefix: str) -> None:
    if field.type in ("CSRFTokenField", "HiddenField"):
        return
    if field.type == "FieldList":
        for entry in field.entries:
            _prefix_id(entry, prefix)
        return
    if field.type == "FormField":
        for sub in field.form:
            _prefix_id(sub, prefix)
        return
    field.id = f"{prefix}-{field.name}"
    field.label.field_id = field.id


# --- modules ------------------------------------------------------------------------

class ModuleForm(BaseForm):
    title = StringField("Module title", filters=[strip], validators=[
        DataRequired("Give the module a title."),
        Length(max=TITLE_MAX, message=f"At most {TITLE_MAX} characters.")])
    description = TextAreaField("Description", filters=[blank_to_none],
                                description="Optional: what this module covers.", validators=[
        Optional(), Length(max=MODULE_DESCRIPTION_MAX, message=f"At most {MODULE_DESCRIPTION_MAX:,} characters.")])


# --- lessons ------------------------------------------------------------------------

def _check_video(form) -> bool:
    if form.content_type.data == "video" and not form.video_url.data and not form.video_url.errors:
        add_error(form.video_url, "A video lesson needs the address of its video.")
        return False
    return True


class LessonAddForm(BaseForm):
    """A new lesson: a title and a type (and the video's address for a video lesson)."""
    title = StringField("Lesson title", filters=[strip], validators=[
        DataRequired("Give the lesson a title."),
        Length(max=TITLE_MAX, message=f"At most {TITLE_MAX} characters.")])
    content_type = SelectField("Type", choices=LESSON_TYPE_CHOICES, default="text",
                               validate_choice=True)
    video_url = URLField("Video address", filters=[blank_to_none],
                         description="For a video lesson: a link to the video (http or https).", validators=[
        Optional(), Length(max=URL_MAX, message=f"At most {URL_MAX:,} characters."),
        Regexp(HTTP_URL, message=URL_MESSAGE)])

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        return _check_video(self) and valid


class QuestionForm(Form):
    """One quiz question. No validators here: they apply only when the lesson
    is a quiz, so ``LessonForm.validate`` checks questions itself."""
    prompt = TextAreaField("Question text", filters=[strip])
    choices = FieldList(StringField("Choice", filters=[strip]), min_entries=0, max_entries=CHOICES_MAX)
    answer = IntegerField("Correct choice", validators=[Optional()])


class LessonForm(BaseForm):
    title = StringField("Lesson title", filters=[strip], validators=[
        DataRequired("Give the lesson a title."),
        Length(max=TITLE_MAX, message=f"At most {TITLE_MAX} characters.")])
    content_type = SelectField("Type", choices=LESSON_TYPE_CHOICES, validate_choice=True)
    module = SelectField("Module", description="Choose another module to move the lesson there (to its end).",
                         validate_choice=True)
    is_preview = BooleanField("Free preview",
                              description="Anyone can open this lesson from the course page, without enrolling.")
    body = TextAreaField("Text", filters=[blank_to_none],
                         description="Markdown: **bold**, *italic*, # headings, - lists, [links](https://…), tables.",
                         validators=[Optional(), Length(max=BODY_MAX, message=f"At most {BODY_MAX:,} characters.")])
    video_url = URLField("Video address", filters=[blank_to_none], validators=[
        Optional(), Length(max=URL_MAX, message=f"At most {URL_MAX:,} characters."),
        Regexp(HTTP_URL, message=URL_MESSAGE)])
    duration_minutes = IntegerField("Duration (minutes)", default=0, validators=[
        Optional(), NumberRange(0, DURATION_MAX, message=f"Enter 0 to {DURATION_MAX:,} minutes.")])
    passing_score = IntegerField("Passing score (%)", default=70,
                                 description="The share of correct answers a student needs to pass.", validators=[
        Optional(), NumberRange(0, 100, message="Enter a score from 0 to 100.")])
    questions = FieldList(FormField(QuestionForm), min_entries=0, max_entries=QUESTIONS_MAX)

    def set_modules(self, modules) -> "LessonForm":
        self.module.choices = [SelectChoice(str(m.id), m.title) for m in modules]
        return self

    def label_entries(self) -> "LessonForm":
        """Number the choices as the person sees them ("Choice 3"); the question's number is its legend."""
        for question in self.questions.entries:
            for j, choice in enumerate(question.form.choices.entries, start=1):
                choice.label.text = f"Choice {j}"
        return self

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        valid = _check_video(self) and valid
        if self.content_type.data == "quiz":
            if self.passing_score.data is None and not self.passing_score.errors:
                add_error(self.passing_score, "A quiz needs a passing score from 0 to 100.")
                valid = False
            valid = self._validate_questions() and valid
        return valid

    def _validate_questions(self) -> bool:
        valid = True
        for question in self.questions.entries:
            q = question.form
            if not q.prompt.data:
                add_error(q.prompt, "Write the question.")
                valid = False
            choices = q.choices.entries
            for choice in choices:
                if not choice.data:
                    add_error(choice, "Write this choice, or remove it.")
                    valid = False
            # Messages about the choices as a whole go on ``answer`` (a FieldList keeps
            # its entries' errors, not its own).
            if not CHOICES_MIN <= len(choices) <= CHOICES_MAX:
                add_error(q.answer, f"Give {CHOICES_MIN} to {CHOICES_MAX} choices.")
                valid = False
            elif q.answer.errors:
                valid = False
            elif q.answer.data is None:
                add_error(q.answer, "Mark the correct choice.")
                valid = False
            elif not 0 <= q.answer.data < len(choices):
                add_error(q.answer, "Mark one of this question's choices as correct.")
                valid = False
        return valid

    # --- editing the quiz in place (buttons named "action"; nothing is saved) ---------

    def apply(self, action: str) -> bool:
        """Add or remove a question or a choice; False when ``action`` is not one of them."""
        name, _, rest = action.partition(":")
        numbers = rest.split(":") if rest else []
        try:
            indices = [int(n) for n in numbers]
        except ValueError:
            return False
        entries = self.questions.entries
        if name == "add_question" and not indices:
            if len(entries) < QUESTIONS_MAX:
                question = self.questions.append_entry()
                for _ in range(CHOICES_MIN):
                    question.form.choices.append_entry()
            return True
        if not indices or not 0 <= indices[0] < len(entries):
            return name in {"remove_question", "add_choice", "remove_choice"}
        q = entries[indices[0]].form
        if name == "remove_question" and len(indices) == 1:
            entries.pop(indices[0])
        elif name == "add_choice" and len(indices) == 1:
            if len(q.choices.entries) < CHOICES_MAX:
                q.choices.append_entry()
        elif name == "remove_choice" and len(indices) == 2:
            j = indices[1]
            if 0 <= j < len(q.choices.entries):
                q.choices.entries.pop(j)
                if q.answer.data == j:
                    q.answer.data = None
                elif q.answer.data is not None and q.answer.data > j:
                    q.answer.data -= 1
        else:
            return False
        return True

    # --- to and from the database -------------------------------------------------

    def quiz(self) -> dict | None:
        if self.content_type.data != "quiz":
            return None
        return {"questions": [{"prompt": q.form.prompt.data,
                               "choices": [c.data for c in q.form.choices.entries],
                               "answer": q.form.answer.data}
                              for q in self.questions.entries]}

    def columns(self) -> dict:
        """The lesson's columns from the form; what the type does not use is cleared."""
        kind = self.content_type.data
        return {
            "title": self.title.data,
            "content_type": kind,
            "is_preview": bool(self.is_preview.data),
            "body": self.body.data if kind in ("text", "assignment") else None,
            "video_url": self.video_url.data if kind == "video" else None,
            "duration_minutes": self.duration_minutes.data or 0,
            "quiz": self.quiz(),
            "passing_score": self.passing_score.data if kind == "quiz" else None,
        }


def lesson_form_data(lesson) -> dict:
    """The edit form's starting values from a lesson row."""
    questions = (lesson.quiz or {}).get("questions", []) if lesson.quiz else []
    return {
        "title": lesson.title,
        "content_type": lesson.content_type,
        "module": str(lesson.module_id),
        "is_preview": lesson.is_preview,
        "body": lesson.body,
        "video_url": lesson.video_url,
        "duration_minutes": lesson.duration_minutes,
        "passing_score": lesson.passing_score if lesson.passing_score is not None else 70,
        "questions": [{"prompt": q.get("prompt"), "choices": list(q.get("choices", [])),
                       "answer": q.get("answer")} for q in questions],
    }


# --- "Move to…": a chosen place, without a mouse or JavaScript ------------------------

MOVE_GONE = "That place is not in the list any more: choose again."


class MoveForm(BaseForm):
    """Where to move a module (``position``: its place, 1..n) or a lesson (``position``:
    ``<module id>:<place>``, in its own module or another). Only the places offered are
    accepted; anything else (a place that no longer exists, a made-up value) is a 422."""
    position = SelectField("Move to", validate_choice=True)

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.position.errors:  # WTForms says "Not a valid choice."
            self.position.errors = [MOVE_GONE if self.position.data else "Choose a place."]
        return valid


NOW = " (where it is now)"


def _place(n: int, before: list[str], where: str = "") -> str:
    """How a place reads: its number, and what it comes after (the titles in their order
    without the item that moves)."""
    after = f", after “{before[n - 2]}”" if n > 1 else ", first"
    return f"Position {n}{where}{after}"


def module_places(modules, module_id) -> tuple[list[SelectChoice], str]:
    """Every place the module can take in its course, and the one it is in now."""
    others = [m.title for m in modules if m.id != module_id]
    now = next(i for i, m in enumerate(modules, start=1) if m.id == module_id)
    choices = [SelectChoice(str(n), _place(n, others) + (NOW if n == now else ""))
               for n in range(1, len(modules) + 1)]
    return choices, str(now)


def lesson_places(modules, lesson_id) -> tuple[list[SelectChoice], str | None]:
    """Every place the lesson can take (``<module id>:<place>``): in each module, before,
    between or after its lessons, grouped by module; and the one it is in now."""
    choices, current = [], None
    for number, module in enumerate(modules, start=1):
        others = [lesson.title for lesson in module.lesson_list if lesson.id != lesson_id]
        now = next((i for i, lesson in enumerate(module.lesson_list, start=1) if lesson.id == lesson_id), None)
        if now is not None:
            current = f"{module.id}:{now}"
        for n in range(1, len(others) + 2):
            label = _place(n, others, f" in “{module.title}”") + (NOW if n == now else "")
            choices.append(SelectChoice(f"{module.id}:{n}", label, optgroup=f"Module {number}: {module.title}"))
    return choices, current


def move_form(places: tuple[list[SelectChoice], str | None], *, posted: bool) -> MoveForm:
    """The "Move to…" form offering ``places`` (choices, the place now): as posted, or
    (a GET) with the place the item is in now chosen."""
    choices, now = places
    form = MoveForm() if posted else MoveForm(formdata=None, data={"position": now})
    form.position.choices = choices
    return form


def chosen_place(form: MoveForm) -> tuple[str | None, int]:
    """(the module's id for a lesson, else None; the 0-based index) of a valid form's choice."""
    module, _, n = form.position.data.rpartition(":")
    return (module or None), int(n) - 1


# --- drip release -------------------------------------------------------------------

RULE_KINDS = [SelectChoice("none", "No rule"), SelectChoice("days", "Days after enrollment"),
              SelectChoice("date", "On a date")]


class RuleForm(Form):
    """The release rule of one module or lesson."""
    kind = SelectField("Release", choices=RULE_KINDS, default="none", validate_choice=True)
    days = IntegerField("Days after enrollment", validators=[
        Optional(), NumberRange(0, DRIP_DAYS_MAX, message=f"Enter 0 to {DRIP_DAYS_MAX:,} days.")])
    on = DateField("Date", format="%Y-%m-%d", validators=[Optional()])

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.on.errors:
            self.on.errors = ["Enter a date like 2026-09-01."]
        if self.kind.data == "days" and self.days.data is None and not self.days.errors:
            add_error(self.days, f"Enter a number of days from 0 to {DRIP_DAYS_MAX:,}.")
            valid = False
        if self.kind.data == "date" and self.on.data is None and not self.on.errors:
            add_error(self.on, "Choose the date.")
            valid = False
        return valid

    def rule(self):
        """The schedule's value: an int of days, a "YYYY-MM-DD" string, or None."""
        if self.kind.data == "days":
            return int(self.days.data)
        if self.kind.data == "date":
            return self.on.data.isoformat()
        return None


def rule_key(item_id) -> str:
    return "r" + uuid.UUID(str(item_id)).hex


def rule_data(rule) -> dict:
    if isinstance(rule, bool) or rule is None:
        return {"kind": "none"}
    if isinstance(rule, (int, float)):
        return {"kind": "days", "days": int(rule)}
    try:
        return {"kind": "date", "on": date.fromisoformat(str(rule))}
    except ValueError:
        return {"kind": "none"}


def drip_rules_form(item_ids, schedule: dict, drip_content: bool, blank: bool = False):
    """A form with the on/off switch and one ``RuleForm`` per module and lesson,
    named ``r<hex of the id>-kind`` / ``-days`` / ``-on``: only ids of this
    course's outline are ever read from a post."""

    class DripRulesForm(BaseForm):
        drip_content = BooleanField("Release content over time (drip)")

    for item_id in item_ids:
        setattr(DripRulesForm, rule_key(item_id), FormField(RuleForm, label=""))
    data = {"drip_content": drip_content}
    data.update({rule_key(i): rule_data(schedule.get(str(i))) for i in item_ids})
    # ``blank``: the saved rules only, even while answering another form's POST.
    return DripRulesForm(data=data, **({"formdata": None} if blank else {}))


def schedule_from(form, item_ids, schedule: dict) -> dict:
    """The new schedule: the form's rules for this outline's items; rules of
    ids the form did not show (none should exist) are left as they were."""
    shown = {str(i) for i in item_ids}
    result = {key: value for key, value in schedule.items() if key not in shown}
    for item_id in item_ids:
        rule = form[rule_key(item_id)].form.rule()
        if rule is not None:
            result[str(item_id)] = rule
    return result


class UnlockForm(BaseForm):
    """Unlock early, for one student: the whole course, a module or a lesson."""
    enrollment = SelectField("Student", validate_choice=True,
                             validators=[DataRequired("Choose a student.")])
    target = SelectField("Unlock", default="course", validate_choice=True,
                         validators=[DataRequired("Choose what to unlock.")])

    def set_choices(self, enrollments, modules) -> "UnlockForm":
        self.enrollment.choices = [SelectChoice("", "Choose a student…")] + [
            SelectChoice(str(e.id), e.student_label) for e in enrollments]
        targets = [SelectChoice("course", "The whole course")]
        for module in modules:
            group = f"Module: {module.title}"
            targets.append(SelectChoice(f"module:{module.id}", f"The module “{module.title}”", optgroup=group))
            targets.extend(SelectChoice(f"lesson:{lesson.id}", f"The lesson “{lesson.title}”", optgroup=group)
                           for lesson in module.lesson_list)
        self.target.choices = targets
        return self

    def unlock(self) -> dict:
        """The row's module_id / lesson_id from the chosen target."""
        kind, _, item = (self.target.data or "").partition(":")
        return {"module_id": uuid.UUID(item) if kind == "module" else None,
                "lesson_id": uuid.UUID(item) if kind == "lesson" else None}
