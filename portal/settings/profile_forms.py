"""The instructor's profile form: what the public instructor page shows.

The limits mirror the database (002's instructor_profiles CHECKs, and 011's, which
repeat these rules), so that a person sees a message on the field; the database is
the final word, and a value it still refuses comes back on its field too
(``portal.settings.profile``):

* headline at most 200 characters; bio 50..2000 characters (or none at all);
* expertise tags: comma separated, trimmed, duplicates dropped whatever their case,
  each 1..40 characters, at most 15;
* pillars: adaptability, coaching, marketplace;
* website: an http or https address;
* education, certifications and work experience: repeatable rows, at most 20 each.
  A row left empty is dropped; a row partly filled is a field error; a row whose
  "Remove" box is ticked is dropped whatever it holds;
* social links: the known networks only, each an https address on that network's host
  (any host for Mastodon, whose servers are many).

Stored shapes (portal/demo.py writes the same): education ``{degree, institution, year?}``,
certifications ``{name, issuer?, year?}``, work experience ``{role, company, from?, to?}``,
social links ``{network: url}``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from wtforms import BooleanField, FieldList, Form, FormField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from portal.forms import BaseForm, strip

HEADLINE_MAX = 200
# Read when the form validates (not bound at import), so a test can switch the check off
# and see the database refuse instead.
BIO_MIN, BIO_MAX = 50, 2000
TAGS_MAX, TAG_MAX = 15, 40
ROW_TEXT_MAX = 200
ROWS_MAX = 20
YEAR_MIN, YEAR_MAX = 1950, 2100
URL_MAX = 500
PILLARS = {"adaptability": "Adaptability", "coaching": "Coaching", "marketplace": "Marketplace"}

# network -> (label, the hosts its addresses live on; None: any host)
NETWORKS = {
    "linkedin": ("LinkedIn", ("linkedin.com",)),
    "github": ("GitHub", ("github.com",)),
    "x": ("X (Twitter)", ("x.com", "twitter.com")),
    "youtube": ("YouTube", ("youtube.com", "youtu.be")),
    "instagram": ("Instagram", ("instagram.com",)),
    "facebook": ("Facebook", ("facebook.com",)),
    "mastodon": ("Mastodon", None),
}

# The buttons that add a blank row to a section (name="add", value=section).
SECTIONS = ("education", "certifications", "work_experience")


# --- cleaning --------------------------------------------------------------------------------


def one_kind_of_newline(value):
    """A browser sends a textarea's line breaks as CRLF; count (and store) each as one character,
    as the live counter does."""
    return value.replace("\r\n", "\n").replace("\r", "\n") if isinstance(value, str) else value


def split_tags(raw: str | None) -> list[str]:
    """Comma-separated tags, trimmed, empty ones dropped, the first of each case-insensitive duplicate kept."""
    seen, tags = set(), []
    for tag in (raw or "").split(","):
        tag = " ".join(tag.split())
        if tag and tag.casefold() not in seen:
            seen.add(tag.casefold())
            tags.append(tag)
    return tags


def parse_year(raw) -> int | None:
    """A year as typed: None when blank; ValueError when it is not a whole number in range."""
    raw = strip(raw)
    if raw in (None, ""):
        return None
    if isinstance(raw, int):
        year = raw
    elif isinstance(raw, str) and raw.isascii() and raw.isdigit():
        year = int(raw)
    else:
        raise ValueError
    if not YEAR_MIN <= year <= YEAR_MAX:
        raise ValueError
    return year


def host_of(url: str) -> str | None:
    """The address's host, or None when it has none a browser would agree on: no host, a malformed
    one ("https://[x"), or a user part or backslash that a browser reads differently from Python
    ("https://evil.example\\@github.com" opens evil.example)."""
    if "\\" in url:
        return None
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return None
    if not host or "@" in parts.netloc:
        return None
    return host.lower()


def host_fits(network: str, url: str) -> bool:
    hosts = NETWORKS[network][1]
    if hosts is None:
        return True
    host = host_of(url) or ""
    return any(host == allowed or host.endswith("." + allowed) for allowed in hosts)


# --- validators (they read the limits above when they run) ----------------------------------------

def check_headline(form, field):
    if field.data and len(field.data) > HEADLINE_MAX:
        raise ValidationError(f"Keep the headline to {HEADLINE_MAX} characters (it has {len(field.data)}).")


def check_bio(form, field):
    if field.data and not BIO_MIN <= len(field.data) <= BIO_MAX:
        raise ValidationError(f"Write between {BIO_MIN} and {BIO_MAX} characters (it has {len(field.data)}), "
                              "or leave the bio empty.")


def check_tags(form, field):
    tags = split_tags(field.data)
    if len(tags) > TAGS_MAX:
        raise ValidationError(f"Choose at most {TAGS_MAX} tags (there are {len(tags)}).")
    long = [tag for tag in tags if len(tag) > TAG_MAX]
    if long:
        raise ValidationError(f"Keep each tag to {TAG_MAX} characters: \u201c{long[0][:TAG_MAX]}\u2026\u201d is longer.")


def web_address(schemes=("http", "https"), message="Enter a web address that starts with http:// or https://."):
    def check(form, field):
        url = field.data
        if not url:
            return
        if len(url) > URL_MAX:
            raise ValidationError(f"Keep the address to {URL_MAX} characters.")
        if not host_of(url) or urlsplit(url).scheme.lower() not in schemes or any(ch.isspace() for ch in url):
            raise ValidationError(message)
    return check


def social_address(network: str):
    label = NETWORKS[network][0]
    https = web_address(("https",), f"Enter your {label} address, starting with https://.")

    def check(form, field):
        https(form, field)
        if field.data and not host_fits(network, field.data):
            hosts = " or ".join(NETWORKS[network][1])
            raise ValidationError(f"A {label} address is on {hosts}.")
    return check


def year_field(label: str) -> StringField:
    def check(form, field):
        try:
            field.data = parse_year(field.data)
        except ValueError:
            raise ValidationError(f"Enter a year between {YEAR_MIN} and {YEAR_MAX}, or leave it empty.") from None
    return StringField(label, filters=[strip], validators=[check], render_kw={"inputmode": "numeric"})


def row_text(label: str, required: bool, what: str) -> StringField:
    def check(form, field):
        if not field.data:
            if required:
                raise ValidationError(f"Enter the {what}, or clear the row.")
            return
        if len(field.data) > ROW_TEXT_MAX:
            raise ValidationError(f"Keep the {what} to {ROW_TEXT_MAX} characters.")
    return StringField(label, filters=[strip], validators=[check])


# --- the repeatable rows -----------------------------------------------------------------------

class RowForm(Form):
    """One row of a repeatable section: validated only when it holds something and is kept."""

    KEYS: dict = {}  # stored key -> field name

    remove = BooleanField("Remove this row")

    def values(self) -> list[str]:
        return [self[name].data for name in self.KEYS.values()]

    def is_blank(self) -> bool:
        return all(value in (None, "") for value in self.values())

    def dropped(self) -> bool:
        return bool(self.remove.data) or self.is_blank()

    def validate(self, extra_validators=None) -> bool:
        if self.dropped():
            return True
        return super().validate(extra_validators)

    def stored(self) -> dict:
        """The row as stored: its keys, the optional ones only when given."""
        return {key: self[name].data for key, name in self.KEYS.items() if self[name].data not in (None, "")}

    @classmethod
    def data_of(cls, row: dict) -> dict:
        """A stored row as this form's data."""
        row = row if isinstance(row, dict) else {}
        return {name: row.get(key) for key, name in cls.KEYS.items()}


class EducationRow(RowForm):
    KEYS = {"degree": "degree", "institution": "institution", "year": "year"}
    degree = row_text("Degree", True, "degree")
    institution = row_text("Institution", True, "institution")
    year = year_field("Year")


class CertificationRow(RowForm):
    KEYS = {"name": "name", "issuer": "issuer", "year": "year"}
    name = row_text("Certification", True, "certification's name")
    issuer = row_text("Issued by", False, "issuer")
    year = year_field("Year")


class WorkRow(RowForm):
    KEYS = {"role": "role", "company": "company", "from": "from_year", "to": "to_year"}
    role = row_text("Role", True, "role")
    company = row_text("Company", True, "company")
    from_year = year_field("From (year)")
    to_year = year_field("To (year)")

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if valid and not self.dropped() and self.from_year.data and self.to_year.data \
                and self.to_year.data < self.from_year.data:
            self.to_year.errors = [*self.to_year.errors, "The end year comes after the start year."]
            return False
        return valid


def rows(form_class, label: str) -> FieldList:
    # A hard cap on what is read (a crafted post of thousands of rows); the rule of 20 kept
    # rows is the form's own message.
    return FieldList(FormField(form_class), label=label, min_entries=1, max_entries=ROWS_MAX * 2)


class MultiCheckboxField(SelectMultipleField):
    """Several choices as checkboxes (the field macro renders it as a fieldset, as a RadioField)."""
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


# --- the form ------------------------------------------------------------------------------------

class ProfileForm(BaseForm):
    headline = StringField("Headline", filters=[strip], validators=[check_headline],
                           description="One line under your name, for example \u201cData coach for "
                                       "small teams\u201d.", render_kw={"maxlength": HEADLINE_MAX})
    bio = TextAreaField("Bio", filters=[one_kind_of_newline, strip], validators=[check_bio],
                        description=f"Between {BIO_MIN} and {BIO_MAX} characters: who you are and how you teach.",
                        render_kw={"rows": 8, "maxlength": BIO_MAX, "data-counter-min": BIO_MIN,
                                   "data-counter-max": BIO_MAX})
    expertise_tags = StringField("Expertise", filters=[strip], validators=[check_tags],
                                 description=f"Separate tags with commas; at most {TAGS_MAX}, each up to "
                                             f"{TAG_MAX} characters.",
                                 render_kw={"list": "tag-suggestions", "autocomplete": "off"})
    pillars = MultiCheckboxField("Teaching pillars", choices=[SelectChoice(value, label) for value, label in PILLARS.items()])
    website_url = StringField("Website", filters=[strip], validators=[web_address()],
                              description="Starts with https:// (or http://).",
                              render_kw={"inputmode": "url", "placeholder": "https://"})
    education = rows(EducationRow, "Education")
    certifications = rows(CertificationRow, "Certifications")
    work_experience = rows(WorkRow, "Work experience")

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for section in SECTIONS:
            if len(self.kept(section)) > ROWS_MAX:
                self[section].errors = [*self[section].errors, f"Keep at most {ROWS_MAX} rows."]
                valid = False
        return valid

    def kept(self, section: str) -> list[dict]:
        return [entry.form.stored() for entry in self[section].entries if not entry.form.dropped()]

    def add_row(self, section: str) -> None:
        """One more blank row in ``section`` (the "Add a row" button), while there is room."""
        if len(self[section].entries) < ROWS_MAX:
            entry = self[section].append_entry()
            # The new row's first box takes the focus (htmx honours autofocus in what it swaps in too).
            first = next(field for field in entry.form if field.short_name != "remove")
            first.render_kw = {**(first.render_kw or {}), "autofocus": True}

    def social_fields(self):
        return [self[f"social_{network}"] for network in NETWORKS]

    def values(self) -> dict:
        """The columns to store (the names of instructor_profiles)."""
        return {
            "headline": self.headline.data or None,
            "bio": self.bio.data or None,
            "expertise_tags": split_tags(self.expertise_tags.data),
            "pillars": [p for p in PILLARS if p in (self.pillars.data or [])],
            "website_url": self.website_url.data or None,
            "education": self.kept("education"),
            "certifications": self.kept("certifications"),
            "work_experience": self.kept("work_experience"),
            "social_links": {network: self[f"social_{network}"].data for network in NETWORKS
                             if self[f"social_{network}"].data},
        }


for _network, (_label, _hosts) in NETWORKS.items():
    setattr(ProfileForm, f"social_{_network}",
            StringField(_label, filters=[strip], validators=[social_address(_network)],
                        render_kw={"inputmode": "url", "placeholder": "https://", "maxlength": URL_MAX}))


def profile_form(profile: dict | None = None) -> ProfileForm:
    """The form: posted values on a POST, else ``profile`` (the stored row) filled in."""
    if profile is None:
        return ProfileForm()
    data = {
        "headline": profile.get("headline"),
        "bio": profile.get("bio"),
        "expertise_tags": ", ".join(profile.get("expertise_tags") or []),
        "pillars": list(profile.get("pillars") or []),
        "website_url": profile.get("website_url"),
        "education": [EducationRow.data_of(row) for row in profile.get("education") or []],
        "certifications": [CertificationRow.data_of(row) for row in profile.get("certifications") or []],
        "work_experience": [WorkRow.data_of(row) for row in profile.get("work_experience") or []],
    }
    links = profile.get("social_links") or {}
    for network in NETWORKS:
        data[f"social_{network}"] = links.get(network) if isinstance(links, dict) else None
    return ProfileForm(formdata=None, data=data)
