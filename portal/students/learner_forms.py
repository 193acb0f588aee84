"""The instructor's note on a student. The limit mirrors 014's CHECK on
``instructor_student_notes.body`` (at most 5,000 characters, not blank). Plain text, stored as
typed (trimmed, Windows line ends as ``\\n``) and escaped on output. The course, when one is
named, is one of the student's courses where the caller manages students."""

from __future__ import annotations

from wtforms import SelectField, TextAreaField
from wtforms.validators import DataRequired, Length

from portal.courses.forms import choices, lines
from portal.forms import BaseForm
from portal.students.learner_queries import NOTE_MAX

NOTE_REQUIRED = "Write the note before saving it."
NOTE_TOO_LONG = f"At most {NOTE_MAX:,} characters."
NO_COURSE = ""


class NoteForm(BaseForm):
    body = TextAreaField("Note", filters=[lines],
                         validators=[DataRequired(NOTE_REQUIRED),
                                     Length(min=1, max=NOTE_MAX, message=NOTE_TOO_LONG)],
                         description="Private: only you read your notes; the student never sees them.")
    course = SelectField("About", choices=choices([(NO_COURSE, "The student in general")]),
                         validate_choice=True)


class EditNoteForm(BaseForm):
    body = TextAreaField("Note", filters=[lines],
                         validators=[DataRequired(NOTE_REQUIRED),
                                     Length(min=1, max=NOTE_MAX, message=NOTE_TOO_LONG)])


def note_form(courses: dict, **kwargs) -> NoteForm:
    """The new note's form; ``courses``: {id as text: title} the note may be about."""
    form = NoteForm(**kwargs)
    form.body.id = form.body.label.field_id = "note-body"
    form.course.id = form.course.label.field_id = "note-course"
    form.course.choices = choices([(NO_COURSE, "The student in general"), *courses.items()])
    return form


def edit_form(note_id, **kwargs) -> EditNoteForm:
    """One note's edit form: each has its own field id (the posted name stays ``body``)."""
    form = EditNoteForm(**kwargs)
    form.body.id = form.body.label.field_id = f"note-{note_id}-body"
    return form
