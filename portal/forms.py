"""What a request brings in, cleaned once at the boundary: query parameters and form fields.

PostgreSQL text cannot hold a NUL character (psycopg2 refuses to send one), so a
NUL that reached a query would be a 500. No one types a NUL; it arrives only from
crafted requests. Rather than guard field by field, the portal drops it here:

* every query parameter (``drop_nul_from_query``, a ``before_request`` hook): a
  search for ``x%00y`` searches for ``xy``;
* every value of every form (``BaseForm``, the base of all the portal's forms):
  free text loses its NULs and is then trimmed, counted and checked as usual.
  Two kinds of field are kept exactly as sent instead: a password (it is hashed,
  never stored as text, and a secret must not be silently changed) and an email
  address (an identifier, not free text: one holding a NUL is no address, so the
  form refuses it with a field message, 422).

A few views read one posted value themselves (``request.form.get``): a number,
``yes``, a uuid, a quiz choice; tokens, never text that is stored. A NUL makes
such a token invalid, refused as any other invalid one is (a 400, or the
confirm step again).

Undecodable text needs nothing here: Werkzeug decodes form bodies and query
strings leniently (invalid UTF-8 stays percent-encoded or becomes U+FFFD), so
no lone surrogate reaches a view. A JSON body would carry one, and numbers or
lists where text is expected, which is why ``BaseForm`` reads the posted HTML
form only and never a JSON body (Flask-WTF's default would read one).
"""

from __future__ import annotations

from flask import g, request
from flask_wtf import FlaskForm
from markupsafe import Markup
from werkzeug.datastructures import CombinedMultiDict, ImmutableMultiDict
from wtforms import EmailField, PasswordField

NUL = "\x00"
NOT_AN_EMAIL = "Enter an email address like name@example.com."
# Fields whose value is kept exactly as sent (see the module's docstring).
EXACT_FIELDS = (PasswordField, EmailField)


def strip(value):
    """A field filter: the value trimmed (NUL characters are already gone: ``BaseForm``)."""
    return value.strip() if isinstance(value, str) else value


def without_nul(values, keep=frozenset()):
    """``values`` (a MultiDict) with NUL characters dropped from every key and text value,
    except the values of the names in ``keep``; the same object when there is nothing to drop."""
    items = list(values.items(multi=True))
    if not any(NUL in key or (isinstance(value, str) and NUL in value) for key, value in items):
        return values
    return ImmutableMultiDict(
        (key.replace(NUL, ""), value.replace(NUL, "") if isinstance(value, str) and key not in keep else value)
        for key, value in items)


def drop_nul_from_query() -> None:
    """A ``before_request`` hook: every view reads ``request.args`` without NUL characters."""
    request.args = without_nul(request.args)


_POSTED = object()  # "the request's form", as Flask-WTF's own default means it


class BaseForm(FlaskForm):
    """Every form of the portal: reads the posted HTML form (never a JSON body) without NULs.

    Subforms (``FormField``, ``FieldList``) receive the same cleaned data, so plain
    ``wtforms.Form`` classes used inside a BaseForm need nothing of their own.
    """

    def __init__(self, formdata=_POSTED, **kwargs):
        if formdata is _POSTED:
            formdata = None
            if self.is_submitted() and (request.form or request.files):
                formdata = CombinedMultiDict((request.files, request.form)) if request.files else request.form
        super().__init__(formdata=formdata, **kwargs)

    class Meta:
        def wrap_formdata(self, form, formdata):
            formdata = super().wrap_formdata(form, formdata)
            if formdata is None:
                return None
            return without_nul(formdata, keep={field.name for field in form if isinstance(field, EXACT_FIELDS)})

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for field in self:
            if isinstance(field, EmailField) and NUL in (field.data or "") and not field.errors:
                field.errors = [*field.errors, NOT_AN_EMAIL]
                valid = False
        return valid


class EmptyForm(BaseForm):
    """A form with no fields: the CSRF token of a POST-only button (publish, delete, sign out...).

    ``CSRFProtect`` (``create_app``) already refuses every POST without a valid token, so
    the views need no form for these buttons; templates render the token through this form
    (the ``csrf()`` macro in ``templates/macros/forms.html``), one way everywhere.
    """


def csrf_field() -> Markup:
    """The hidden token field of a POST-only button, from an ``EmptyForm``: rendered once per request
    (a curriculum page holds hundreds of buttons; a form and its render cost some 50 µs each time),
    and without an id (it repeats on the page). Empty when CSRF protection is off (the benchmark)."""
    if "csrf_field" not in g:
        form = EmptyForm(formdata=None)
        g.csrf_field = form.csrf_token(id=False) if "csrf_token" in form else Markup("")
    return g.csrf_field
