"""One way to confirm an action (portal.web.notify): an htmx answer carries an
``HX-Trigger`` ``notify`` event for static/js/notify.js; a redirect or a plain
form flashes the message, which base.html renders in the same region on the
next page (success and info in its role="status", an error as an alert)."""

from __future__ import annotations

import json
import re

import pytest
from flask import flash, get_flashed_messages, make_response, render_template

from portal.web import notify, redirect_to
from tests.web import htmx, notified, text




def test_htmx_answer_carries_the_notify_event(world):
    """An htmx answer that stays on the page gets HX-Trigger notify with the message and its kind; nothing is flashed."""
    with world.app.test_request_context("/", method="POST", headers=htmx()):
        response = notify(make_response("<p>fragment</p>"), "Module “Intro” saved.")
        assert json.loads(response.headers["HX-Trigger"]) == {
            "notify": {"message": "Module “Intro” saved.", "kind": "success"}}
        assert get_flashed_messages() == []


def test_notify_keeps_the_other_events_of_the_answer(world):
    """Events already set (JSON or a comma list) stay beside notify."""
    with world.app.test_request_context("/", method="POST", headers=htmx()):
        response = make_response("")
        response.headers["HX-Trigger"] = json.dumps({"refresh-stats": {"course": 1}})
        notify(response, "Refused.", "error")
        assert json.loads(response.headers["HX-Trigger"]) == {
            "refresh-stats": {"course": 1}, "notify": {"message": "Refused.", "kind": "error"}}
        listed = make_response("")
        listed.headers["HX-Trigger"] = "one, two"
        events = json.loads(notify(listed, "Noted.", "info").headers["HX-Trigger"])
        assert events == {"one": None, "two": None, "notify": {"message": "Noted.", "kind": "info"}}


@pytest.mark.parametrize("headers", [{}, htmx()], ids=["plain form", "htmx"])
def test_a_redirect_flashes_the_message_for_the_next_page(world, headers):
    """A 303 (plain form) or HX-Redirect (htmx) leaves the page: the message is flashed, no event is sent."""
    with world.app.test_request_context("/", method="POST", headers=headers):
        response = notify(redirect_to("/courses/"), "Course deleted.", "info")
        assert "HX-Trigger" not in response.headers
        assert get_flashed_messages(with_categories=True) == [("info", "Course deleted.")]


def test_an_unknown_kind_is_a_programming_error(world):
    """Only success, info and error exist (each has its look and its role)."""
    with world.app.test_request_context("/", method="POST", headers=htmx()):
        with pytest.raises(ValueError):
            notify(make_response(""), "Hm.", "warning")


def test_flashed_messages_render_in_the_region(world):
    """Success and info go in the region's role="status", an error is an alert; each has a Dismiss button that
    waits (hidden) for notify.js, and the page carries the template and the script."""
    with world.app.test_request_context("/"):
        flash("Saved.", "success")
        flash("Refused.", "error")
        page = render_template("placeholder.html", title="T", summary="S")
    region = page[page.index('<div id="messages"'):page.index('<main id="main"')]
    status = re.search(r'<div id="messages-status"([^>]*)>(.*?)</div>\s*</div>', region, re.S)
    assert 'role="status" aria-live="polite"' in status.group(1)
    assert "Saved." in status.group(2) and "Refused." not in status.group(2)
    assert re.search(r'<div class="message message--error" role="alert">\s*<p class="message__text">Refused.</p>',
                     region)
    assert region.count("data-dismiss-message") == 3, "two messages and the template"
    assert region.count('aria-label="Dismiss this message" hidden') == 3
    assert '<template id="message-template">' in region
    assert "/static/js/notify.js" in page


def test_plain_form_message_shows_on_the_next_page(world):
    """Post/redirect/get: the builder's message is flashed by notify() and shown once on the page it redirects to."""
    course = world.course()
    response = world.clients["owner"].post(f"/courses/{course.id}/modules/{course.modules[0]}/move",
                                           data={"by": "1", "csrf_token": world.tokens["owner"]})
    assert response.status_code == 303 and "HX-Trigger" not in response.headers
    page = text(world.clients["owner"].get(response.headers["Location"]))
    status = page[page.index('<div id="messages-status"'):page.index("<main")]
    assert "Module “Module” is now 2 of 2." in status
    again = text(world.clients["owner"].get(response.headers["Location"]))
    assert "is now 2 of 2" not in again, "shown once"


def test_htmx_error_fragment_is_a_dismissable_alert(world):
    """A refused htmx write answers an alert for the region, its Dismiss button shown (htmx runs the script)."""
    course = world.course()
    response = world.clients["co_view"].post(f"/courses/{course.id}/modules/{course.modules[0]}/move",
                                             data={"by": "1", "csrf_token": world.tokens["co_view"]},
                                             headers=htmx())
    body = text(response)
    assert response.status_code == 404 and response.headers["HX-Retarget"] == "#messages"
    assert 'class="message message--error" role="alert"' in body and "Not found." in body
    assert "data-dismiss-message" in body and " hidden" not in body
    assert notified(response) is None
