"""The Students area's forms: bulk enrollment (a list of addresses, pasted or as a CSV file)
and announcements. Limits mirror 015's CHECKs and caps (at most ``BULK_ROWS_MAX`` addresses a
list: ``private.bulk_rows_max()``; an announcement's title and body lengths)."""

from __future__ import annotations

import csv
import io
import re

from flask_wtf.file import FileField
from wtforms.fields.choices import SelectChoice
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from portal.courses.forms import lines
from portal.forms import BaseForm, strip

BULK_ROWS_MAX = 1000
FILE_BYTES_MAX = 512 * 1024
TOO_MANY = f"At most {BULK_ROWS_MAX:,} addresses a list: split it into several."
NO_ADDRESSES = "Paste the addresses or choose a CSV file of them."
NOT_A_CSV = "The file is not a CSV file of text (UTF-8)."
TOO_BIG = f"The file is larger than {FILE_BYTES_MAX // 1024} KB."
# An item of a list: up to a new line, comma or semicolon that is not inside double quotes
# (a display name may hold a comma: "Lovelace, Ada" <ada@example.test>).
ITEM = re.compile(r'(?:"[^"\n]*"|[^",;\n])+')
# ``Name <address>`` (the name bare or quoted): the address between the angle brackets.
NAMED = re.compile(r'^(?:"[^"]*"|[^<>"])*<([^<>]*)>$')


def address_of(item: str) -> list[str]:
    """One item of a list as its address(es): ``Name <address>`` gives the address; anything else
    is split on spaces (pasted addresses separated by spaces). What is not an address stays as it
    is, for the preview to name as invalid."""
    item = item.strip()
    named = NAMED.match(item)
    if named:
        return [named.group(1).strip()]
    return item.split()


def addresses_from_text(text: str) -> list[str]:
    """A pasted list: addresses separated by new lines, commas, semicolons or spaces, each bare or
    as ``Name <address>``."""
    return [address for item in ITEM.findall(text or "") for address in address_of(item)]


def _dialect(text: str):
    """The file's delimiter (comma, semicolon, as a spreadsheet in many locales writes, or tab),
    sniffed from its start; a comma when the sample says nothing."""
    try:
        return csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        return csv.excel


def addresses_from_csv(text: str) -> list[str]:
    """A CSV file (the stdlib's reader, its delimiter sniffed): with a header naming an ``email``
    column, that column of every row; without one, the first cell of every row. A cell may be
    ``Name <address>``. Empty rows are skipped."""
    rows = [row for row in csv.reader(io.StringIO(text), _dialect(text)) if any(cell.strip() for cell in row)]
    if not rows:
        return []
    header = [cell.strip().lower() for cell in rows[0]]
    if "email" in header:
        column = header.index("email")
        cells = [row[column] for row in rows[1:] if len(row) > column and row[column].strip()]
    else:
        cells = [row[0] for row in rows if row and row[0].strip()]
    return [address for cell in cells for address in (address_of(cell) or [cell.strip()])]


def course_choices(courses: dict) -> list[SelectChoice]:
    return [SelectChoice("", "Choose a course")] + [SelectChoice(k, v) for k, v in courses.items()]


class BulkEnrollForm(BaseForm):
    course = SelectField("Course", choices=[], validate_choice=False,
                         validators=[DataRequired("Choose the course.")])
    emails = TextAreaField("Email addresses", filters=[strip],
                           description="One a line, or separated by commas or semicolons; "
                                       "“Name <address>” works too.")
    upload = FileField("Or a CSV file", description="One address a row, or a column named “email” "
                                                    "(commas or semicolons between columns).")
    grant_access = BooleanField("Grant access without payment",
                                description="Needed for a paid course: the students are enrolled free of "
                                            "charge and the grant is recorded in your name.")

    def __init__(self, courses: dict | None = None, **kwargs):
        super().__init__(**kwargs)
        self.course.choices = course_choices(courses or {})
        self.known_courses = courses or {}
        self.addresses: list[str] = []

    def validate_course(self, field):
        if field.data and field.data not in self.known_courses:
            raise ValidationError("Choose one of your courses.")

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        found = addresses_from_text(self.emails.data or "")
        upload = self.upload.data
        if upload and getattr(upload, "filename", ""):
            raw = upload.read(FILE_BYTES_MAX + 1)
            if len(raw) > FILE_BYTES_MAX:
                self.upload.errors = [*self.upload.errors, TOO_BIG]
                return False
            try:
                found += addresses_from_csv(raw.decode("utf-8-sig").replace("\x00", ""))
            except (UnicodeDecodeError, csv.Error):
                self.upload.errors = [*self.upload.errors, NOT_A_CSV]
                return False
        if not found:
            self.emails.errors = [*self.emails.errors, NO_ADDRESSES]
            return False
        if len(found) > BULK_ROWS_MAX:
            self.emails.errors = [*self.emails.errors, TOO_MANY]
            return False
        self.addresses = [address[:300] for address in found]
        return valid


AUDIENCES = {"all": "All the course's students", "active": "Students still learning (not completed)",
             "completed": "Students who completed it"}
TITLE_MAX, BODY_MAX = 200, 20000


class AnnouncementForm(BaseForm):
    course = SelectField("Course", choices=[], validate_choice=False,
                         validators=[DataRequired("Choose the course.")])
    audience = RadioField("To", choices=[SelectChoice(k, v) for k, v in AUDIENCES.items()], default="all",
                          validators=[DataRequired("Choose who it is for.")])
    title = StringField("Title", filters=[strip],
                        validators=[DataRequired("Give it a title."),
                                    Length(max=TITLE_MAX, message=f"At most {TITLE_MAX} characters.")])
    body = TextAreaField("Message", filters=[lines],
                         validators=[DataRequired("Write the message."),
                                     Length(max=BODY_MAX, message=f"At most {BODY_MAX:,} characters.")],
                         description="Markdown: **bold**, *italic*, lists and links. Students read it in the "
                                     "portal and, as their settings say, by email.")

    def __init__(self, courses: dict | None = None, **kwargs):
        super().__init__(**kwargs)
        self.course.choices = course_choices(courses or {})
        self.known_courses = courses or {}

    def validate_course(self, field):
        if field.data and field.data not in self.known_courses:
            raise ValidationError("Choose one of your courses.")
