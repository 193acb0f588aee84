"""The course details form. Its limits mirror the SQL:

* 001 ``courses``: title 3-200 characters after trimming; slug lowercase
  ``^[a-z0-9]+(-[a-z0-9]+)*$`` and unique; subtitle <= 300; description <=
  20000; thumbnail ``^https?://``; level one of four; price >= 0; currency
  ``^[A-Z]{3}$``.
* 002's ``ALTER TABLE courses``: category <= 100; certificate template
  ``^https?://``; tags, outcomes and audience as ``text[]``.
* 004: a published course keeps its slug (guard_course_lifecycle).
* RLS (courses_create / courses_update): the organization is none, the
  user's own, or the one the course already has.

Limits the SQL does not state, chosen here: the price is at most 99,999.99
with two decimals; at most 20 tags of at most 40 characters (trimmed,
lowercased, de-duplicated); at most 20 outcomes and 20 audience lines of at
most 300 characters each (empty ones dropped); links at most 2,000
characters. The certificate template is optional even when certificates are
on: the demo data and older courses have certificates without one, and the
student side uses the platform's standard certificate then.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from wtforms import BooleanField, DecimalField, Field, SelectField, StringField, TextAreaField, URLField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp, ValidationError

from portal.forms import BaseForm, strip

TITLE_MIN, TITLE_MAX = 3, 200
SLUG_MAX = 100
SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
SUBTITLE_MAX = 300
DESCRIPTION_MAX = 20000
CATEGORY_MAX = 100
TAGS_MAX, TAG_MAX = 20, 40
ITEMS_MAX, ITEM_MAX = 20, 300
URL_MAX = 2000
URL_PATTERN = r"^https?://\S+$"
PRICE_MAX = Decimal("99999.99")
LEVELS = {"beginner": "Beginner", "intermediate": "Intermediate", "advanced": "Advanced",
          "all_levels": "All levels"}
CURRENCIES = ("USD", "EUR", "GBP", "CAD", "AUD", "NZD", "CHF", "SEK", "NOK", "DKK", "PLN", "CZK",
              "JPY", "CNY", "INR", "SGD", "HKD", "KRW", "BRL", "MXN", "ZAR")
NO_ORGANIZATION = ""

URL_MESSAGE = "Enter a full address starting with http:// or https://."


# --- filters ----------------------------------------------------------------------

clean = strip  # trimmed (portal.forms.strip), the name this module's fields and importers use


def lines(value):
    """Windows line ends as ``\\n``, so the length counted is the length stored."""
    return value.replace("\r\n", "\n").strip() if isinstance(value, str) else value


def lower(value):
    return value.lower() if isinstance(value, str) else value


def none_if_empty(value):
    return value or None


def parse_tags(text: str) -> list[str]:
    """Comma-separated tags: trimmed, inner spaces collapsed, lowercased, de-duplicated in order."""
    tags = (" ".join(part.split()).lower() for part in (text or "").split(","))
    return list(dict.fromkeys(tag for tag in tags if tag))


# --- fields -------------------------------------------------------------------------

class TagsField(StringField):
    """A comma-separated text input whose data is the list of tags."""

    def process_data(self, value):
        self.data = list(value or [])

    def process_formdata(self, valuelist):
        if valuelist:
            self.data = parse_tags(valuelist[0])

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return ", ".join(self.data or [])


class ItemsField(Field):
    """A list of short texts posted as repeated inputs of one name (``name=a&name=b``).

    Items are trimmed and empty ones dropped. ``item_errors`` maps the index
    of an item in ``data`` to its message, so the form marks that input.
    """

    def __init__(self, label=None, validators=None, max_items=ITEMS_MAX, max_length=ITEM_MAX, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.max_items, self.max_length = max_items, max_length
        self.item_errors: dict[int, str] = {}

    def process_data(self, value):
        self.data = [item for item in (value or []) if item]

    def process_formdata(self, valuelist):
        self.data = [item for item in (clean(v) for v in valuelist) if item]

    def pre_validate(self, form):
        self.item_errors = {}
        for index, item in enumerate(self.data or []):
            if len(item) > self.max_length:
                self.item_errors[index] = (f"Item {index + 1} has {len(item)} characters; "
                                           f"keep it to {self.max_length}.")
        messages = list(self.item_errors.values())
        if len(self.data or []) > self.max_items:
            messages.insert(0, f"At most {self.max_items} items (there are {len(self.data)}).")
        if messages:
            raise ValidationError(" ".join(messages))


class MoneyField(DecimalField):
    """A price: an empty input is missing (not 'invalid'), and the message says how to write one."""

    def process_formdata(self, valuelist):
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        try:
            self.data = Decimal(valuelist[0].strip().replace(",", ""))
        except (InvalidOperation, ValueError) as exc:
            self.data = None
            raise ValueError("Enter an amount like 19.99, or 0 for a free course.") from exc


def price_limits(form, field):
    value = field.data
    if value is None:
        return
    if not value.is_finite():
        raise ValidationError("Enter an amount like 19.99, or 0 for a free course.")
    if value < 0:
        raise ValidationError("The price cannot be negative. Use 0 for a free course.")
    if value > PRICE_MAX:
        raise ValidationError(f"The price can be at most {PRICE_MAX:,}.")
    if value != value.quantize(Decimal("0.01")):
        raise ValidationError("Use at most two decimals (cents).")


def choices(pairs) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


def one_of_choices(message):
    def check(form, field):
        if field.data not in {choice.value for choice in field.choices}:
            raise ValidationError(message)
    return check


# --- the form ---------------------------------------------------------------------

class CourseForm(BaseForm):
    title = StringField("Title", filters=[clean], validators=[
        DataRequired("Give the course a title."),
        Length(TITLE_MIN, TITLE_MAX, f"Use {TITLE_MIN} to {TITLE_MAX} characters.")])
    slug = StringField("Web address (slug)", filters=[clean, lower], validators=[
        Optional(),
        Length(max=SLUG_MAX, message=f"At most {SLUG_MAX} characters."),
        Regexp(SLUG_PATTERN, message="Use lowercase letters and digits, with single hyphens between "
                                     "words (like intro-to-python).")],
        description="Lowercase letters, digits and hyphens. Leave it empty to make one from the title.")
    subtitle = StringField("Subtitle", filters=[clean, none_if_empty], validators=[
        Length(max=SUBTITLE_MAX, message=f"At most {SUBTITLE_MAX} characters.")],
        description="One line under the title in the catalog.")
    description = TextAreaField("Description", filters=[lines, none_if_empty], validators=[
        Length(max=DESCRIPTION_MAX, message=f"At most {DESCRIPTION_MAX:,} characters.")],
        description="Markdown is allowed. Publishing needs a description.")
    category = StringField("Category", filters=[clean, none_if_empty], validators=[
        Length(max=CATEGORY_MAX, message=f"At most {CATEGORY_MAX} characters.")])
    tags = TagsField("Tags", description=f"Separate tags with commas: up to {TAGS_MAX} tags of at most "
                                         f"{TAG_MAX} characters. They are saved in lowercase.")
    what_you_will_learn = ItemsField("What students will learn",
                                     description=f"Up to {ITEMS_MAX} outcomes of at most {ITEM_MAX} characters.")
    target_audience = ItemsField("Who this course is for",
                                 description=f"Up to {ITEMS_MAX} lines of at most {ITEM_MAX} characters.")
    price_amount = MoneyField("Price", places=2, validators=[
        InputRequired("Enter a price, or 0 for a free course."), price_limits],
        description="0 means the course is free.")
    currency = SelectField("Currency", choices=choices((c, c) for c in CURRENCIES), validate_choice=False,
                           validators=[one_of_choices("Choose a currency from the list."),
                                       Regexp(r"^[A-Z]{3}$", message="Choose a currency from the list.")])
    level = SelectField("Level", choices=choices(LEVELS.items()), validate_choice=False,
                        validators=[one_of_choices("Choose a level from the list.")])
    thumbnail_url = URLField("Thumbnail image address", filters=[clean, none_if_empty], validators=[
        Optional(), Length(max=URL_MAX, message=f"At most {URL_MAX:,} characters."),
        Regexp(URL_PATTERN, message=URL_MESSAGE)],
        description="A link to an image (https://...).")
    certificate_enabled = BooleanField("Award a certificate on completion")
    certificate_template_url = URLField("Certificate template address", filters=[clean, none_if_empty],
                                        validators=[Optional(),
                                                    Length(max=URL_MAX, message=f"At most {URL_MAX:,} characters."),
                                                    Regexp(URL_PATTERN, message=URL_MESSAGE)],
                                        description="Optional: without one, the standard certificate is used.")
    allow_comments = BooleanField("Allow comments on lessons")
    allow_qa = BooleanField("Allow questions and answers")
    drip_content = BooleanField("Release content over time (drip)",
                                description="Set the schedule on the Drip release tab.")
    organization = SelectField("Organization", choices=choices([(NO_ORGANIZATION, "None: a standalone course")]),
                               validate_choice=False,
                               validators=[one_of_choices("Choose none, or an organization you belong to.")])

    def validate_tags(self, field):
        messages = []
        if len(field.data) > TAGS_MAX:
            messages.append(f"At most {TAGS_MAX} tags (there are {len(field.data)}).")
        long = [tag for tag in field.data if len(tag) > TAG_MAX]
        if long:
            messages.append(f"Tags have at most {TAG_MAX} characters: "
                            + ", ".join(f"“{tag[:TAG_MAX]}…”" for tag in long[:3]) + " "
                            + ("is" if len(long) == 1 else "are") + " longer.")
        if messages:
            raise ValidationError(" ".join(messages))

    def offer(self, organizations: dict, current=None, currency: str | None = None) -> "CourseForm":
        """The organizations the user may pick (id -> name), and the course's current one and currency."""
        offered = [(NO_ORGANIZATION, "None: a standalone course")]
        for org_id, name in organizations.items():
            offered.append((str(org_id), name))
        if current and str(current) not in {value for value, _ in offered}:
            offered.append((str(current), "The course's current organization"))
        self.organization.choices = choices(offered)
        self.organization.description = (
            "The organization's admins can see the course and its figures." if len(offered) > 1
            else "You do not belong to an organization, so the course stands on its own.")
        if currency and currency not in CURRENCIES:
            self.currency.choices = [*self.currency.choices, SelectChoice(currency, currency)]
        return self

    def lock_slug(self) -> "CourseForm":
        """A published course keeps its address: the input is read-only and says why."""
        self.slug.description = "Published courses keep their address, so links to them keep working."
        return self

    def values(self) -> dict:
        """Column values for an insert or update (the slug is handled apart)."""
        return {
            "title": self.title.data,
            "subtitle": self.subtitle.data,
            "description": self.description.data,
            "category": self.category.data,
            "tags": self.tags.data,
            "what_you_will_learn": self.what_you_will_learn.data,
            "target_audience": self.target_audience.data,
            "price_amount": self.price_amount.data,
            "currency": self.currency.data,
            "level": self.level.data,
            "thumbnail_url": self.thumbnail_url.data,
            "certificate_enabled": self.certificate_enabled.data,
            "certificate_template_url": self.certificate_template_url.data,
            "allow_comments": self.allow_comments.data,
            "allow_qa": self.allow_qa.data,
            "drip_content": self.drip_content.data,
            "organization": self.organization.data or None,
        }


NEW_COURSE = {"price_amount": Decimal("0.00"), "currency": "USD", "level": "beginner",
              "allow_comments": True, "allow_qa": True, "organization": NO_ORGANIZATION}


def course_data(course) -> dict:
    """A course row as the form's initial data."""
    data = {name: getattr(course, name) for name in (
        "title", "slug", "subtitle", "description", "category", "tags", "what_you_will_learn",
        "target_audience", "price_amount", "currency", "level", "thumbnail_url", "certificate_enabled",
        "certificate_template_url", "allow_comments", "allow_qa", "drip_content")}
    data["currency"] = (course.currency or "").strip()
    data["organization"] = str(course.organization_id) if course.organization_id else NO_ORGANIZATION
    return data


SLUG_TAKEN = "This address is already taken. Choose another one."
SLUG_LOCKED = "This course has been published: its address stays as it is, so links to it keep working."
