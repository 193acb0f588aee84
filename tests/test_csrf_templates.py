"""CSRF tokens in the templates: one way to render them (the ``csrf()`` macro, through
``EmptyForm``), and the token it renders is the one ``CSRFProtect`` accepts."""

from __future__ import annotations

import re
from pathlib import Path

from tests.support import gen_account
from tests.web import csrf_token, sign_in, text

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
# An <input> tag (over several lines too) that mentions the CSRF token.
HAND_WRITTEN_INPUT = re.compile(r"<input\b[^>]*csrf_token", re.IGNORECASE)
TOKEN_CALL = re.compile(r"csrf_token\(\)")
# The one place a template may read the token itself: the header htmx sends with
# hx-post / hx-delete buttons outside forms (DESIGN.md, HTMX conventions).
HX_HEADERS = '<body hx-headers=\'{{ {"X-CSRFToken": csrf_token()}|tojson }}\'>'


def _templates():
    found = sorted(TEMPLATES.rglob("*.html"))
    assert len(found) > 50, "the templates are where the test expects them"
    return found


def test_no_template_writes_a_csrf_input_by_hand():
    """Every POST-only button renders its token with {{ csrf() }} (or a form's own csrf_token field)."""
    offenders = [f"{path.relative_to(TEMPLATES)}: {match.group(0)!r}"
                 for path in _templates() for match in HAND_WRITTEN_INPUT.finditer(path.read_text())]
    assert offenders == [], "use {{ csrf() }} from macros/forms.html:\n" + "\n".join(offenders)


def test_only_the_htmx_header_reads_the_token_itself():
    """csrf_token() appears once in the templates: base.html's hx-headers."""
    calls = [(path.relative_to(TEMPLATES).as_posix(), line.strip())
             for path in _templates() for line in path.read_text().splitlines() if TOKEN_CALL.search(line)]
    assert calls == [("base.html", HX_HEADERS)]


def test_the_macro_renders_a_token_csrf_protect_accepts(database, client):
    """The sign-out button's token (from the macro) has no id, so a page of buttons repeats none,
    and signs out; the same post without it is refused."""
    _, email = gen_account(database, "student")
    sign_in(client, email)
    page = text(client.get("/learning/"))
    fields = re.findall(r'<input name="csrf_token" type="hidden" value="[^"]+">', page)
    assert fields and len(fields) == page.count('name="csrf_token"'), "every token field without an id"
    assert client.post("/sign-out").status_code == 400
    assert client.get("/learning/").status_code == 200, "still signed in"
    response = client.post("/sign-out", data={"csrf_token": csrf_token(client, "/learning/")})
    assert response.status_code == 303
    assert client.get("/learning/").status_code in (302, 303), "signed out: My learning asks to sign in"
