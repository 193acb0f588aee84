"""The workshop editor, the facilitator form and the feedback form. Limits mirror the SQL:

* 001 ``workshops``: title 3-200 characters after trimming; slug ``^[a-z0-9]+(-[a-z0-9]+)*$``,
  unique; description <= 20000; location <= 500; meeting link ``^https?://``; capacity > 0;
  price >= 0; currency ``^[A-Z]{3}$``; the end after the start.
* 002: type online / in person / hybrid; a location unless online; a meeting link unless in
  person (before publishing: a draft may leave it for later; this form asks for it always, as
  the issue does); tags, prerequisites, outcomes as ``text[]``; certificate template ``^https?://``.
* 021: the refund cutoff 0-720 hours before the start.

The start and end are typed in the instructor's time zone (their settings, or the one chosen
here) and stored as timestamptz; the zone is stored with the workshop, so the page can name it.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from wtforms import (BooleanField, DateTimeLocalField, IntegerField, RadioField, SelectField,
                     StringField, TextAreaField, URLField)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp, ValidationError

from portal.courses.forms import (CURRENCIES, DESCRIPTION_MAX, ITEM_MAX, ITEMS_MAX, SLUG_MAX,
                                  SLUG_PATTERN, TAG_MAX, TAGS_MAX, TITLE_MAX, TITLE_MIN, URL_MAX, URL_MESSAGE,
                                  URL_PATTERN, ItemsField, MoneyField, TagsField, choices, clean, lines, lower,
                                  none_if_empty, price_limits)
from portal.forms import BaseForm

TYPES = {"online": "Online", "in_person": "In person", "hybrid": "Hybrid"}
LOCATION_MAX = 500
CAPACITY_MAX = 10000
CUTOFF_MAX = 720
ZONES = sorted(z for z in available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/", "posix/",
                                                                                   "right/")))
NO_ORGANIZATION = ""
FACILITATOR_ROLES = {"co-facilitator": "Co-facilitator", "assistant": "Assistant"}
# How far from today a workshop's times may be typed (021's CHECK keeps 2000-2200 in the database).
PAST_WINDOW = timedelta(days=365)
FUTURE_WINDOW = timedelta(days=5 * 365)


def zone_of(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return ZoneInfo("UTC")


class WorkshopForm(BaseForm):
    title = StringField("Title", filters=[clean], validators=[
        DataRequired("Give the workshop a title."),
        Length(TITLE_MIN, TITLE_MAX, f"A title has {TITLE_MIN} to {TITLE_MAX} characters.")])
    slug = StringField("Address", filters=[clean, lower, none_if_empty], validators=[
        Optional(), Length(max=SLUG_MAX), Regexp(SLUG_PATTERN, message="Lowercase letters, digits and single dashes.")],
        description="Left empty, it is made from the title.")
    description = TextAreaField("Description", filters=[lines, none_if_empty], validators=[
        Optional(), Length(max=DESCRIPTION_MAX, message=f"At most {DESCRIPTION_MAX} characters.")])
    type = RadioField("Format", choices=choices(TYPES.items()), default="online",
                      validators=[InputRequired("Choose online, in person or hybrid.")])
    location = StringField("Location", filters=[clean, none_if_empty], validators=[
        Optional(), Length(max=LOCATION_MAX, message=f"At most {LOCATION_MAX} characters.")],
        description="The address, for in-person and hybrid workshops.")
    meeting_url = URLField("Meeting link", filters=[clean, none_if_empty], validators=[
        Optional(), Length(max=URL_MAX), Regexp(URL_PATTERN, message=URL_MESSAGE)],
        description="For online and hybrid workshops; shown only to registrants with a confirmed seat.")
    timezone = SelectField("Time zone", choices=choices((z, z.replace("_", " ")) for z in ["UTC", *ZONES]),
                           validators=[InputRequired()])
    start_time = DateTimeLocalField("Starts", format="%Y-%m-%dT%H:%M",
                                    validators=[InputRequired("When does it start?")])
    end_time = DateTimeLocalField("Ends", format="%Y-%m-%dT%H:%M", validators=[InputRequired("When does it end?")])
    capacity = IntegerField("Seats", validators=[
        InputRequired("How many seats?"), NumberRange(1, CAPACITY_MAX, f"From 1 to {CAPACITY_MAX} seats.")])
    price_amount = MoneyField("Price", places=2, default=0, validators=[
        InputRequired("Enter a price (0 for free)."), price_limits])
    currency = SelectField("Currency", choices=choices((c, c) for c in CURRENCIES), default="USD")
    refund_cutoff_hours = IntegerField("Refund cutoff (hours before the start)", default=24, validators=[
        InputRequired("Enter the hours (0 refunds until the start)."),
        NumberRange(0, CUTOFF_MAX, f"From 0 to {CUTOFF_MAX} hours.")],
        description="A paid seat cancelled at least this long before the start is refunded.")
    tags = TagsField("Tags", description="Separated by commas.")
    prerequisites = ItemsField("Prerequisites")
    what_you_will_learn = ItemsField("What you will learn")
    certificate_enabled = BooleanField("Certificate of attendance")
    certificate_template_url = URLField("Certificate template", filters=[clean, none_if_empty], validators=[
        Optional(), Length(max=URL_MAX), Regexp(URL_PATTERN, message=URL_MESSAGE)])
    organization_id = SelectField("Organization", choices=choices([(NO_ORGANIZATION, "None: my own workshop")]),
                                  default=NO_ORGANIZATION)

    def offer(self, organizations: dict, current=None) -> "WorkshopForm":
        offered = [(NO_ORGANIZATION, "None: my own workshop"), *((str(k), v) for k, v in organizations.items())]
        if current is not None and str(current) not in {value for value, _ in offered}:
            offered.append((str(current), "The current organization"))
        self.organization_id.choices = choices(offered)
        return self

    def validate_tags(self, field):
        if len(field.data or []) > TAGS_MAX:
            raise ValidationError(f"At most {TAGS_MAX} tags.")
        if any(len(tag) > TAG_MAX for tag in field.data or []):
            raise ValidationError(f"A tag has at most {TAG_MAX} characters.")

    def validate(self, extra_validators=None) -> bool:
        """The fields, then what the format asks for: a location in person, a link online, both hybrid."""
        valid = super().validate(extra_validators)
        if self.type.data in ("in_person", "hybrid") and not self.location.data and not self.location.errors:
            self.location.errors = [*self.location.errors, "An in-person or hybrid workshop needs a location."]
            valid = False
        if self.type.data in ("online", "hybrid") and not self.meeting_url.data and not self.meeting_url.errors:
            self.meeting_url.errors = [*self.meeting_url.errors, "An online or hybrid workshop needs a meeting link."]
            valid = False
        return valid

    def _a_real_time(self, field):
        """Within the window around today, and a time that exists once in the form's zone."""
        local = field.data
        if local is None:
            return
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        if not now - PAST_WINDOW <= local <= now + FUTURE_WINDOW:
            raise ValidationError("Choose a time between a year ago and five years from now.")
        name = self.timezone.data or "UTC"
        zone = zone_of(name)
        once = local.replace(tzinfo=zone)
        if once.astimezone(timezone.utc).astimezone(zone).replace(tzinfo=None) != local:
            raise ValidationError(f"This time does not exist in {name} (clocks change): choose another.")
        if once.utcoffset() != local.replace(tzinfo=zone, fold=1).utcoffset():
            raise ValidationError(f"This time happens twice in {name} (clocks go back): choose a time outside "
                                  "the repeated hour.")

    def validate_start_time(self, field):
        self._a_real_time(field)

    def validate_end_time(self, field):
        self._a_real_time(field)
        if field.data and self.start_time.data and field.data <= self.start_time.data:
            raise ValidationError("The end comes after the start.")

    def moment(self, local: datetime) -> datetime:
        """A time typed in the form's zone, as an aware time (stored as timestamptz)."""
        return local.replace(tzinfo=zone_of(self.timezone.data))

    def values(self) -> dict:
        kind = self.type.data
        return {
            "title": self.title.data, "description": self.description.data, "type": kind,
            "location": self.location.data if kind != "online" else None,
            "meeting_url": self.meeting_url.data if kind != "in_person" else None,
            "timezone": self.timezone.data, "start_time": self.moment(self.start_time.data),
            "end_time": self.moment(self.end_time.data), "capacity": self.capacity.data,
            "price_amount": self.price_amount.data, "currency": self.currency.data,
            "refund_cutoff_hours": self.refund_cutoff_hours.data, "tags": self.tags.data or [],
            "prerequisites": self.prerequisites.data or [], "what_you_will_learn": self.what_you_will_learn.data or [],
            "certificate_enabled": bool(self.certificate_enabled.data),
            "certificate_template_url": self.certificate_template_url.data,
            "organization_id": self.organization_id.data or None,
        }


def workshop_data(w) -> dict:
    """The form's data from a stored workshop: times in the workshop's own zone."""
    zone = zone_of(w.timezone)
    return {"title": w.title, "slug": w.slug, "description": w.description, "type": w.type,
            "location": w.location, "meeting_url": getattr(w, "meeting_url", None), "timezone": w.timezone,
            "start_time": w.start_time.astimezone(zone).replace(tzinfo=None),
            "end_time": w.end_time.astimezone(zone).replace(tzinfo=None), "capacity": w.capacity,
            "price_amount": w.price_amount, "currency": (w.currency or "USD").strip(),
            "refund_cutoff_hours": w.refund_cutoff_hours, "tags": list(w.tags or []),
            "prerequisites": list(w.prerequisites or []), "what_you_will_learn": list(w.what_you_will_learn or []),
            "certificate_enabled": w.certificate_enabled, "certificate_template_url": w.certificate_template_url,
            "organization_id": str(w.organization_id) if w.organization_id else NO_ORGANIZATION}


class FacilitatorForm(BaseForm):
    email = StringField("Instructor's email", filters=[clean], validators=[
        DataRequired("Enter the instructor's email."), Length(max=320)])
    role = SelectField("Role", choices=choices(FACILITATOR_ROLES.items()), default="co-facilitator")


RATING = choices((str(n), str(n)) for n in range(1, 6))
NPS = choices((str(n), str(n)) for n in range(0, 11))
COMMENT_MAX = 5000


class FeedbackForm(BaseForm):
    overall_satisfaction = RadioField("Overall", choices=RATING, validators=[InputRequired("Rate it from 1 to 5.")])
    content_rating = RadioField("Content", choices=RATING, validators=[InputRequired("Rate it from 1 to 5.")])
    delivery_rating = RadioField("Delivery", choices=RATING, validators=[InputRequired("Rate it from 1 to 5.")])
    interaction_rating = RadioField("Interaction", choices=RATING,
                                    validators=[InputRequired("Rate it from 1 to 5.")])
    nps_score = RadioField("How likely are you to recommend it to a friend or colleague? (0 to 10)", choices=NPS,
                           validators=[InputRequired("Choose from 0 to 10.")])
    what_went_well = TextAreaField("What went well", filters=[lines, none_if_empty], validators=[
        Optional(), Length(max=COMMENT_MAX, message=f"At most {COMMENT_MAX} characters.")])
    what_could_improve = TextAreaField("What could improve", filters=[lines, none_if_empty], validators=[
        Optional(), Length(max=COMMENT_MAX, message=f"At most {COMMENT_MAX} characters.")])

    def values(self) -> dict:
        nps = int(self.nps_score.data)
        return {"overall_satisfaction": int(self.overall_satisfaction.data),
                "content_rating": int(self.content_rating.data), "delivery_rating": int(self.delivery_rating.data),
                "interaction_rating": int(self.interaction_rating.data), "nps_score": nps,
                "would_recommend": nps >= 9, "what_went_well": self.what_went_well.data,
                "what_could_improve": self.what_could_improve.data}


__all__ = ["WorkshopForm", "FacilitatorForm", "FeedbackForm", "workshop_data", "TYPES", "ITEMS_MAX", "ITEM_MAX"]
