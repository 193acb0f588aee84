"""Workshops over HTTP (issue 14): the instructor's list, editor and lifecycle, facilitators,
registrations with attendance, the feedback summary with NPS; the student's catalog, page,
register / waitlist / cancel, my workshops, feedback; the .ics and the feed, parsed with icalendar."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from tests.support import gen_account, gen_org, gen_workshop, register
from tests.web import csrf_token, htmx, sign_in, text

OUTSIDERS = ("other_instructor", "student")


def extra_student(world):
    """A new student with a signed-in client of their own: (id, client)."""
    user, email = gen_account(world.database, "student")
    client = world.app.test_client()
    sign_in(client, email)
    return user, client


def token_of(client) -> str:
    return csrf_token(client, "/no-such-page")


def send(world, actor, path, data=None, headers=None):
    return world.clients[actor].post(path, data={**(data or {}), "csrf_token": world.tokens[actor]},
                                     headers=headers or {})


def held(world, workshop, *, started=True, ended=False):
    """Move a workshop's times (maintenance): started an hour ago, ended or not."""
    end = "now() - interval '1 minute'" if ended else "now() + interval '1 hour'"
    start = "now() - interval '2 hours'" if started else "now() + interval '1 day'"
    world.database.value(f"UPDATE workshops SET start_time = {start}, end_time = {end} WHERE id = %s RETURNING 1",
                         (workshop,))


def slug_of(world, workshop):
    return world.database.value("SELECT slug FROM workshops WHERE id = %s", (workshop,))


def status_of(world, registration):
    return world.database.value("SELECT status::text FROM workshop_registrations WHERE id = %s", (registration,))


FORM = {"title": "Hybrid Clinic", "description": "Bring a laptop.", "type": "hybrid",
        "location": "Main Street 1, Amsterdam", "meeting_url": "https://meet.example.test/clinic",
        "timezone": "Europe/Amsterdam", "start_time": "2031-03-10T18:00", "end_time": "2031-03-10T20:00",
        "capacity": "12", "price_amount": "0", "currency": "EUR", "refund_cutoff_hours": "24",
        "tags": "Prompting, Live", "what_you_will_learn": ["Write prompts", "Check answers"],
        "prerequisites": ["A laptop"], "organization_id": ""}


# --- the editor -------------------------------------------------------------------------------------------

def test_an_instructor_creates_a_hybrid_workshop_in_their_zone_and_publishes_it(world):
    response = send(world, "owner", "/workshops/new", FORM)
    assert response.status_code == 303, text(response)[:2000]
    workshop_id = response.headers["Location"].rsplit("/", 1)[1]
    row = world.database.rows("SELECT * FROM workshops WHERE id = %s", (workshop_id,))[0]
    assert row["status"] == "draft" and row["type"] == "hybrid" and row["tags"] == ["prompting", "live"]
    # 18:00 in Amsterdam in March (CET, UTC+1) is 17:00 UTC.
    assert row["start_time"] == datetime(2031, 3, 10, 17, 0, tzinfo=timezone.utc)
    assert row["what_you_will_learn"] == ["Write prompts", "Check answers"]
    page = text(world.clients["owner"].get(f"/workshops/{workshop_id}"))
    assert 'value="2031-03-10T18:00"' in page and "Europe/Amsterdam" in page
    assert send(world, "owner", f"/workshops/{workshop_id}/publish").status_code == 303
    assert world.database.value("SELECT status::text FROM workshops WHERE id = %s", (workshop_id,)) == "published"


@pytest.mark.parametrize("changes, field, message", [
    ({"type": "in_person", "location": ""}, "location", "needs a location"),
    ({"type": "online", "meeting_url": ""}, "meeting_url", "needs a meeting link"),
    ({"end_time": "2031-03-10T17:00"}, "end_time", "after the start"),
    ({"capacity": "0"}, "capacity", "From 1"),
    ({"title": "x"}, "title", "3 to 200"),
    ({"refund_cutoff_hours": "9999"}, "refund_cutoff_hours", "From 0 to 720"),
    # far future and long ago (psycopg2 cannot read year 10000 or 1 BC back): a window around today
    ({"start_time": "9999-03-10T18:00", "end_time": "9999-03-10T20:00"}, "start_time", "five years from now"),
    ({"start_time": "0001-03-10T18:00"}, "start_time", "a year ago"),
    # the clocks change: a time that does not exist, a time that happens twice
    ({"start_time": "2027-03-28T02:30", "end_time": "2027-03-28T05:00"}, "start_time", "does not exist in "
                                                                                        "Europe/Amsterdam"),
    ({"start_time": "2027-10-31T02:30", "end_time": "2027-10-31T05:00"}, "start_time", "happens twice"),
    ({"price_amount": "sNaN"}, "price_amount", "Enter an amount like 19.99"),
    ({"price_amount": "1e400"}, "price_amount", "at most"),
])
def test_bad_input_is_a_422_with_the_values_kept(world, changes, field, message):
    before = world.database.value("SELECT count(*) FROM workshops")
    response = send(world, "owner", "/workshops/new", {**FORM, **changes, "title": changes.get("title", "Kept title")})
    page = text(response)
    assert response.status_code == 422 and f'id="{field}-error"' in page and message in page
    assert 'value="Kept title"' in page or field == "title"
    assert world.database.value("SELECT count(*) FROM workshops") == before


def test_the_list_has_tabs_search_and_a_csv(world):
    owner = world.users["owner"]
    gen_workshop(world.database, owner, title="Tabbed Upcoming Alpha")
    gen_workshop(world.database, owner, title="Tabbed Draft Beta", status="draft")
    client = world.clients["owner"]
    page = text(client.get("/workshops/?q=tabbed"))
    assert "Tabbed Upcoming Alpha" in page and "Tabbed Draft Beta" not in page
    assert "Facilitating" not in page, "the owner's own workshop"
    drafts = text(client.get("/workshops/?tab=draft&q=tabbed"))
    assert "Tabbed Draft Beta" in drafts and "Tabbed Upcoming Alpha" not in drafts
    exported = client.get("/workshops/export.csv?tab=draft&q=tabbed")
    rows = list(csv.reader(io.StringIO(text(exported))))
    assert rows[0][0].lstrip("\ufeff") == "Title" and [r[0] for r in rows[1:]] == ["Tabbed Draft Beta"]
    # Another instructor's list does not have them.
    assert "Tabbed Upcoming Alpha" not in text(world.clients["other_instructor"].get("/workshops/?q=tabbed"))


@pytest.mark.parametrize("actor", OUTSIDERS)
def test_another_persons_workshop_is_a_404(world, actor):
    workshop = gen_workshop(world.database, world.users["owner"])
    client = world.clients[actor]
    for path in (f"/workshops/{workshop}", f"/workshops/{workshop}/registrations", f"/workshops/{workshop}/feedback",
                 f"/workshops/{workshop}/cancel"):
        assert client.get(path).status_code == 404, path
    assert send(world, actor, f"/workshops/{workshop}/publish").status_code == 404
    assert send(world, actor, f"/workshops/{workshop}/cancel").status_code == 404
    assert world.database.value("SELECT status::text FROM workshops WHERE id = %s", (workshop,)) == "published"


def test_anon_signs_in_first_and_a_post_without_csrf_is_refused(world):
    workshop = gen_workshop(world.database, world.users["owner"])
    response = world.clients["anon"].get("/workshops/")
    assert response.status_code == 303 and response.headers["Location"].startswith("/sign-in")
    assert world.clients["owner"].post(f"/workshops/{workshop}/cancel").status_code == 400
    assert world.database.value("SELECT status::text FROM workshops WHERE id = %s", (workshop,)) == "published"


def test_facilitators_by_email_and_never_a_participant(world):
    owner = world.users["owner"]
    workshop = gen_workshop(world.database, owner)
    helper, _ = gen_account(world.database, "instructor")
    email = world.database.value("SELECT email FROM users WHERE id = %s", (helper,))
    response = send(world, "owner", f"/workshops/{workshop}/facilitators", {"email": email, "role": "assistant"})
    assert response.status_code == 303
    student_email = world.emails["student"]
    refused = send(world, "owner", f"/workshops/{workshop}/facilitators", {"email": student_email,
                                                                          "role": "assistant"})
    assert refused.status_code == 422 and "No active instructor has that email" in text(refused)
    # The facilitator cannot register (the database refuses; the page says why).
    with pytest.raises(Exception):
        register(world.database, helper, workshop)
    # Over HTTP the facilitator runs the workshop (its list, registrations) but cannot cancel it.
    client = world.app.test_client()
    sign_in(client, email)
    title = world.database.value("SELECT title FROM workshops WHERE id = %s", (workshop,))
    listed = text(client.get("/workshops/"))
    assert title in listed and "Facilitating" in listed
    assert client.get(f"/workshops/{workshop}/registrations").status_code == 200
    assert client.get(f"/workshops/{workshop}/cancel").status_code == 404
    refused = client.post(f"/workshops/w/{slug_of(world, workshop)}/register", data={"csrf_token": token_of(client)})
    assert refused.status_code == 303
    assert world.database.value("SELECT count(*) FROM workshop_registrations WHERE user_id = %s", (helper,)) == 0


# --- registration, waitlist, attendance, feedback ------------------------------------------------------------

def test_register_waitlist_cancel_and_promotion_through_the_pages(world):
    owner = world.users["owner"]
    workshop = gen_workshop(world.database, owner, capacity=1, title="One Seat Lab")
    slug = slug_of(world, workshop)
    first = world.users["student"]
    second, second_client = extra_student(world)
    assert send(world, "student", f"/workshops/w/{slug}/register").status_code == 303
    second_client.post(f"/workshops/w/{slug}/register", data={"csrf_token": token_of(second_client)})
    first_reg = world.database.value("SELECT id FROM workshop_registrations WHERE workshop_id = %s AND user_id = %s",
                                     (workshop, first))
    second_reg = world.database.value("SELECT id FROM workshop_registrations WHERE workshop_id = %s "
                                      "AND user_id = %s", (workshop, second))
    assert (status_of(world, first_reg), status_of(world, second_reg)) == ("registered", "waitlisted")
    page = text(second_client.get(f"/workshops/w/{slug}"))
    assert "number 1 on the waitlist" in page and 'id="meeting-link"' not in page
    assert 'id="meeting-link"' in text(world.clients["student"].get(f"/workshops/w/{slug}"))
    assert send(world, "student", f"/workshops/w/{slug}/cancel").status_code == 303
    assert status_of(world, second_reg) == "registered"
    assert 'id="meeting-link"' in text(second_client.get(f"/workshops/w/{slug}"))
    assert world.database.value("SELECT count(*) FROM notifications WHERE user_id = %s "
                                "AND event_type = 'workshop_seat'", (second,)) == 1
    mine = text(second_client.get("/workshops/mine"))
    assert "One Seat Lab" in mine


def test_attendance_opens_at_the_start_one_click_and_all_present(world):
    owner = world.users["owner"]
    workshop = gen_workshop(world.database, owner, capacity=40)
    students = [gen_account(world.database, "student")[0] for _ in range(3)]
    regs = [register(world.database, s, workshop) for s in students]
    mark = f"/workshops/{workshop}/registrations/{regs[0]}/attendance"
    early = send(world, "owner", mark, {"status": "attended"}, headers=htmx())
    assert "once the workshop has started" in (early.headers.get("HX-Trigger") or "")
    assert status_of(world, regs[0]) == "registered"
    held(world, workshop)
    row = send(world, "owner", mark, {"status": "no_show"}, headers=htmx())
    assert row.status_code == 200 and f'id="reg-{regs[0]}"' in text(row) and "No-show" in text(row)
    # the summary follows the click, out of band
    present = send(world, "owner", f"/workshops/{workshop}/registrations/{regs[1]}/attendance",
                   {"status": "attended"}, headers=htmx())
    assert re.search(r'<template>\s*<p id="registration-counts" class="muted" hx-swap-oob="true">[^<]*'
                     r'3 of 40 seats taken · 1 attended', text(present))
    assert "Mark everyone not yet marked present" in text(world.clients["owner"].get(
        f"/workshops/{workshop}/registrations"))
    assert send(world, "owner", f"/workshops/{workshop}/registrations/all-present").status_code == 303
    # the explicit absent mark stays: only seats not yet marked become present
    assert [status_of(world, r) for r in regs] == ["no_show", "attended", "attended"]
    assert world.database.value("SELECT attended_count FROM workshops WHERE id = %s", (workshop,)) == 2


def test_the_registrations_page_pages_by_keyset_seats_first(world, monkeypatch):
    from portal.workshops import queries
    monkeypatch.setattr(queries, "REGISTRATIONS_PAGE", 2)
    owner = world.users["owner"]
    workshop = gen_workshop(world.database, owner, capacity=1)
    names = []
    for n in range(3):
        user, _ = gen_account(world.database, "student", name=f"Paged Person {n}")
        register(world.database, user, workshop)
        names.append(f"Paged Person {n}")
    first = text(world.clients["owner"].get(f"/workshops/{workshop}/registrations"))
    assert names[0] in first and names[1] in first and names[2] not in first
    after = re.search(r'id="registrations-next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    second = text(world.clients["owner"].get(after))
    assert names[2] in second and names[0] not in second and 'id="registrations-next"' not in second
    garbled = world.clients["owner"].get(f"/workshops/{workshop}/registrations?after=nonsense")
    assert garbled.status_code == 200 and names[0] in text(garbled)


@pytest.mark.parametrize("promoters, detractors, answers, score, shown", [
    (1, 0, 8, 13, "+13"), (0, 1, 8, -13, "-13"),    # 12.5 and -12.5: halves away from zero, both ways
    (3, 0, 8, 38, "+38"), (0, 3, 8, -38, "-38"),    # 37.5 (half-even would say 38 but 62.5 -> 62)
    (5, 0, 8, 63, "+63"), (1, 1, 2, 0, "0"), (0, 0, 0, None, "—"),
])
def test_nps_rounds_halves_away_from_zero_and_shows_zero_plainly(promoters, detractors, answers, score, shown):
    from portal.workshops import queries
    assert queries.nps(promoters, detractors, answers) == score
    assert queries.nps_text(score) == shown


def test_feedback_after_the_end_once_and_the_summary_shows_nps(world):
    owner = world.users["owner"]
    workshop = gen_workshop(world.database, owner, capacity=10, title="NPS Lab")
    slug = slug_of(world, workshop)
    people = [extra_student(world) for _ in range(4)]
    for user, _ in people:
        register(world.database, user, workshop)
    held(world, workshop)
    send(world, "owner", f"/workshops/{workshop}/registrations/all-present")
    early = people[0][1]
    assert early.get(f"/workshops/w/{slug}/feedback").status_code == 404, "not before the end"
    assert early.post(f"/workshops/w/{slug}/feedback", data={"overall_satisfaction": "4", "csrf_token":
                                                             token_of(early)}).status_code == 404
    held(world, workshop, ended=True)
    for (user, client), score in zip(people, (10, 9, 7, 3)):
        form = {"overall_satisfaction": "4", "content_rating": "5", "delivery_rating": "4",
                "interaction_rating": "3", "nps_score": str(score), "what_went_well": f"Score {score} liked it",
                "csrf_token": token_of(client)}
        assert client.post(f"/workshops/w/{slug}/feedback", data=form).status_code == 303
    again = people[0][1].get(f"/workshops/w/{slug}/feedback")
    assert "already gave your feedback" in text(again)
    bad = people[0][1].post(f"/workshops/w/{slug}/feedback",
                            data={"nps_score": "11", "csrf_token": token_of(people[0][1])})
    assert bad.status_code == 422
    summary = text(world.clients["owner"].get(f"/workshops/{workshop}/feedback"))
    # 2 promoters (10, 9), 1 detractor (3) of 4: 50% - 25% = +25.
    assert re.search(r'id="nps-value">\+25<', summary)
    assert "Score 10 liked it" in summary
    compare = text(world.clients["owner"].get("/workshops/feedback"))
    assert "NPS Lab" in compare and "+25" in compare


def test_a_held_workshop_is_not_moved_into_the_past_nor_cancelled_over_http(world):
    response = send(world, "owner", "/workshops/new", {**FORM, "title": "Past Proof"})
    workshop = response.headers["Location"].rsplit("/", 1)[1]
    send(world, "owner", f"/workshops/{workshop}/publish")
    register(world.database, gen_account(world.database, "student")[0], workshop)
    yesterday = (datetime.now(ZoneInfo("Europe/Amsterdam")) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    later = (datetime.now(ZoneInfo("Europe/Amsterdam")) - timedelta(days=1, hours=-2)).strftime("%Y-%m-%dT%H:%M")
    moved = send(world, "owner", f"/workshops/{workshop}", {**FORM, "title": "Past Proof", "start_time": yesterday,
                                                            "end_time": later})
    page = text(moved)
    assert moved.status_code == 422 and 'id="start_time-error"' in page and "start stays in the future" in page
    assert f'value="{yesterday}"' in page, "the typed value is kept"
    held(world, workshop)
    refused = send(world, "owner", f"/workshops/{workshop}/cancel")
    assert refused.status_code == 303
    assert "mark it completed" in text(world.clients["owner"].get(refused.headers["Location"]))
    assert world.database.value("SELECT status::text FROM workshops WHERE id = %s", (workshop,)) == "published"


def test_cancelling_a_workshop_tells_every_registrant(world):
    owner = world.users["owner"]
    workshop = gen_workshop(world.database, owner, capacity=1)
    (seated, seated_client), (waiting, _) = extra_student(world), extra_student(world)
    people = [seated, waiting]
    for p in people:
        register(world.database, p, workshop)
    assert "2 registrations" in text(world.clients["owner"].get(f"/workshops/{workshop}/cancel"))
    assert send(world, "owner", f"/workshops/{workshop}/cancel").status_code == 303
    assert world.database.value("SELECT count(*) FROM notifications WHERE event_type = 'workshop_cancelled' "
                                "AND user_id = ANY (%s)", (people,)) == 2
    assert world.database.value("SELECT enrolled_count FROM workshops WHERE id = %s", (workshop,)) == 0
    # The notice links to the page: a registrant still reads it (cancelled), its .ics and My workshops say so.
    slug = slug_of(world, workshop)
    page = seated_client.get(f"/workshops/w/{slug}")
    assert page.status_code == 200 and "Cancelled" in text(page)
    ics = seated_client.get(f"/workshops/w/{slug}.ics")
    assert ics.status_code == 200 and "STATUS:CANCELLED" in text(ics)
    mine = text(seated_client.get("/workshops/mine"))
    assert slug in mine and "Cancelled" in mine
    assert world.clients["student"].get(f"/workshops/w/{slug}").status_code == 404, "not for outsiders"


# --- calendar --------------------------------------------------------------------------------------------------

def test_the_ics_parses_with_the_right_local_time_a_stable_uid_and_a_moving_sequence(world):
    response = send(world, "owner", "/workshops/new", {**FORM, "title": "Calendar Clinic"})
    workshop = response.headers["Location"].rsplit("/", 1)[1]
    send(world, "owner", f"/workshops/{workshop}/publish")
    slug = slug_of(world, workshop)
    assert world.database.value("SELECT status::text FROM workshops WHERE id = %s", (workshop,)) == "published"
    assert world.clients["anon"].get(f"/workshops/w/{slug}").status_code == 200
    got = world.clients["anon"].get(f"/workshops/w/{slug}.ics")
    assert got.status_code == 200 and got.mimetype == "text/calendar", (got.status_code, text(got)[-3000:])
    first = Calendar.from_ical(got.data)
    event = first.walk("VEVENT")[0]
    start = event.decoded("dtstart")
    assert start.tzinfo is not None and str(event["dtstart"].params["TZID"]) == "Europe/Amsterdam"
    assert start.astimezone(ZoneInfo("Europe/Amsterdam")).hour == 18
    assert start.astimezone(timezone.utc) == datetime(2031, 3, 10, 17, 0, tzinfo=timezone.utc)
    assert first.walk("VTIMEZONE"), "the zone travels with the event"
    assert "meet.example.test" not in event.get("description", ""), "anon never gets the meeting link"
    send(world, "owner", f"/workshops/{workshop}", {**FORM, "title": "Calendar Clinic", "slug": slug,
                                                   "start_time": "2031-03-10T19:00"})
    second = Calendar.from_ical(world.clients["anon"].get(f"/workshops/w/{slug}.ics").data).walk("VEVENT")[0]
    assert second["uid"] == event["uid"] and int(second["sequence"]) > int(event["sequence"])
    # The UID and the page's address come from PORTAL_URL, never from the Host header a client sends.
    portal = world.app.config["PORTAL_URL"].rstrip("/")
    spoofed = Calendar.from_ical(world.clients["anon"].get(f"/workshops/w/{slug}.ics",
                                                           headers={"Host": "evil.example"}).data).walk("VEVENT")[0]
    assert str(spoofed["uid"]) == str(event["uid"]) == f"workshop-{workshop}@{urlsplit(portal).hostname}"
    assert str(spoofed["url"]) == f"{portal}/workshops/w/{slug}"
    send(world, "owner", f"/workshops/{workshop}/cancel")
    cancelled = Calendar.from_ical(world.clients["owner"].get(f"/workshops/w/{slug}.ics").data)
    assert str(cancelled.walk("VEVENT")[0]["status"]) == "CANCELLED" and str(cancelled["method"]) == "CANCEL"


def test_the_feed_lives_at_a_secret_address_while_calendar_sync_is_on(world):
    owner = world.users["owner"]
    world.database.value("UPDATE instructor_settings SET calendar_sync_enabled = true, calendar_provider = 'google' "
                         "WHERE user_id = %s RETURNING 1", (owner,))
    gen_workshop(world.database, owner, title="Feed Workshop")
    page = text(send(world, "owner", "/workshops/calendar-feed"))
    url = re.search(r'id="feed-url"[^>]*value="([^"]+)"', page).group(1)
    path = url.split("://", 1)[1].split("/", 1)[1]
    feed = Calendar.from_ical(world.clients["anon"].get("/" + path).data)
    assert "Feed Workshop" in [str(e["summary"]) for e in feed.walk("VEVENT")]
    # A new address replaces the old one; sync off closes the feed.
    send(world, "owner", "/workshops/calendar-feed")
    assert world.clients["anon"].get("/" + path).status_code == 404
    assert world.clients["anon"].get("/workshops/calendar/not-a-token.ics").status_code == 404


# --- the catalog -------------------------------------------------------------------------------------------------

def test_the_catalog_lists_upcoming_published_workshops_only(world):
    owner = world.users["owner"]
    gen_workshop(world.database, owner, title="Catalog Upcoming Gamma")
    gen_workshop(world.database, owner, title="Catalog Draft Delta", status="draft")
    page = text(world.clients["anon"].get("/workshops/catalog/?q=catalog"))
    assert "Catalog Upcoming Gamma" in page and "Catalog Draft Delta" not in page
    draft = world.database.value("SELECT slug FROM workshops WHERE title = 'Catalog Draft Delta'")
    assert world.clients["student"].get(f"/workshops/w/{draft}").status_code == 404


# --- every route x actor (test_web_routes.py takes RULES from here) ------------------------------------------

# The workshop routes with an argument, the POSTs and the export: every one is in WORKSHOP_ROUTES below.
WORKSHOP_ROUTES = {
    # rule: (method, owner, other_instructor, student, anon)
    "/workshops/export.csv": ("GET", 200, 200, 404, "sign in"),
    "/workshops/new": ("POST", 422, 422, 404, "sign in"),
    "/workshops/<uuid:workshop_id>": ("GET", 200, 404, 404, "sign in"),
    "/workshops/<uuid:workshop_id>/registrations": ("GET", 200, 404, 404, "sign in"),
    "/workshops/<uuid:workshop_id>/feedback": ("GET", 200, 404, 404, "sign in"),
    "/workshops/<uuid:workshop_id>/cancel": ("GET", 200, 404, 404, "sign in"),
    "/workshops/<uuid:workshop_id>/publish": ("POST", 303, 404, 404, "sign in"),
    "/workshops/<uuid:workshop_id>/complete": ("POST", 303, 404, 404, "sign in"),
    "/workshops/<uuid:workshop_id>/delete": ("POST", 303, 404, 404, "sign in"),
    "/workshops/<uuid:workshop_id>/facilitators": ("POST", 422, 404, 404, "sign in"),
    "/workshops/<uuid:workshop_id>/facilitators/<uuid:facilitator_id>/remove": ("POST", 404, 404, 404, "sign in"),
    "/workshops/<uuid:workshop_id>/registrations/<uuid:registration_id>/attendance":
        ("POST", 400, 404, 404, "sign in"),
    "/workshops/<uuid:workshop_id>/registrations/all-present": ("POST", 303, 404, 404, "sign in"),
    "/workshops/calendar-feed": ("POST", 200, 200, 404, "sign in"),
    "/workshops/w/<workshop_slug>": ("GET", 200, 200, 200, 200),
    "/workshops/w/<workshop_slug>.ics": ("GET", 200, 200, 200, 200),
    "/workshops/w/<workshop_slug>/register": ("POST", 303, 303, 303, "sign in"),
    "/workshops/w/<workshop_slug>/cancel": ("POST", 404, 404, 404, "sign in"),
    "/workshops/w/<workshop_slug>/pay": ("POST", 404, 404, 404, "sign in"),
    "/workshops/w/<workshop_slug>/feedback": ("GET", 404, 404, 404, "sign in"),
    "/workshops/calendar/<feed_token>.ics": ("GET", 404, 404, 404, 404),
}
RULES = set(WORKSHOP_ROUTES) | {"/workshops/w/<workshop_slug>/feedback"}
ROUTE_ACTORS = ("owner", "other_instructor", "student", "anon")
ROUTE_CASES = [(rule, actor, spec[0], spec[i + 1]) for rule, spec in WORKSHOP_ROUTES.items()
               for i, actor in enumerate(ROUTE_ACTORS)]


@pytest.mark.parametrize("rule, actor, method, expected", ROUTE_CASES, ids=[f"{r} {a}" for r, a, _, _ in ROUTE_CASES])
def test_every_workshop_route_as_every_actor(world, rule, actor, method, expected):
    """The owner's draft (nothing to publish past, nothing registered); a wrong user gets 404, anon
    signs in; an action's refusal is never a 500."""
    workshop = gen_workshop(world.database, world.users["owner"], status="draft")
    slug = slug_of(world, workshop)
    if "<workshop_slug>" in rule:  # the public page of a published one
        workshop = gen_workshop(world.database, world.users["owner"])
        slug = slug_of(world, workshop)
    path = (rule.replace("<uuid:workshop_id>", str(workshop)).replace("<workshop_slug>", slug)
            .replace("<uuid:facilitator_id>", "00000000-0000-0000-0000-000000000001")
            .replace("<uuid:registration_id>", "00000000-0000-0000-0000-000000000002")
            .replace("<feed_token>", "x" * 40))
    client = world.clients[actor]
    if method == "GET":
        response = client.get(path)
    else:
        data = {"csrf_token": world.tokens[actor]} if actor != "anon" else {}
        response = client.post(path, data=data)
    if expected == "sign in":
        assert response.status_code in (303, 400), response.status_code
        if response.status_code == 303:
            assert response.headers["Location"].startswith("/sign-in")
    else:
        assert response.status_code == expected, (response.status_code, text(response)[:300])


@pytest.mark.parametrize("rule", [r for r, spec in WORKSHOP_ROUTES.items() if spec[0] == "POST"])
def test_every_workshop_post_needs_its_csrf_token(world, rule):
    workshop = gen_workshop(world.database, world.users["owner"])
    path = (rule.replace("<uuid:workshop_id>", str(workshop)).replace("<workshop_slug>", slug_of(world, workshop))
            .replace("<uuid:facilitator_id>", "00000000-0000-0000-0000-000000000001")
            .replace("<uuid:registration_id>", "00000000-0000-0000-0000-000000000002"))
    assert world.clients["owner"].post(path).status_code == 400
    assert world.database.value("SELECT status::text FROM workshops WHERE id = %s", (workshop,)) == "published"


# --- paying: the courses' checkout and webhook path --------------------------------------------------------------

def test_a_paid_seat_is_paid_through_the_checkout_and_a_promoted_one_too(world):
    owner = world.users["owner"]
    workshop = gen_workshop(world.database, owner, capacity=1, price="30.00", title="Paid Lab",
                            starts_in=timedelta(days=5))
    slug = slug_of(world, workshop)
    (first, first_client), (second, second_client) = extra_student(world), extra_student(world)

    def pay_through_checkout(client):
        response = client.post(f"/workshops/w/{slug}/pay", data={"csrf_token": token_of(client)})
        assert response.status_code == 303 and response.headers["Location"].startswith("/checkout/")
        checkout = response.headers["Location"]
        assert "Paid Lab" in text(client.get(checkout))
        paid = client.post(checkout + "/pay", data={"csrf_token": token_of(client)})
        assert paid.status_code == 303 and paid.headers["Location"] == f"/workshops/w/{slug}"

    registered = first_client.post(f"/workshops/w/{slug}/register", data={"csrf_token": token_of(first_client)})
    assert registered.headers["Location"].startswith("/checkout/"), "a paid seat goes on to its checkout"
    pay_through_checkout(first_client)
    seat = world.database.rows("SELECT id, payment_status::text AS paid, amount_paid FROM workshop_registrations "
                               "WHERE workshop_id = %s AND user_id = %s", (workshop, first))[0]
    assert seat["paid"] == "completed" and str(seat["amount_paid"]) == "30.00"
    assert world.database.value("SELECT total_revenue FROM workshops WHERE id = %s", (workshop,)) == 30
    second_client.post(f"/workshops/w/{slug}/register", data={"csrf_token": token_of(second_client)})
    first_client.post(f"/workshops/w/{slug}/cancel", data={"csrf_token": token_of(first_client)})
    assert "Your payment is refunded." in text(first_client.get(f"/workshops/w/{slug}"))
    assert world.database.value("SELECT status::text || '/' || payment_status::text FROM workshop_registrations "
                                "WHERE id = %s", (seat["id"],)) == "cancelled/refunded", "cancelled before the cutoff"
    assert world.database.value("SELECT total_revenue FROM workshops WHERE id = %s", (workshop,)) == 0
    held_page = text(second_client.get(f"/workshops/w/{slug}"))
    assert "Your seat is held" in held_page and 'id="meeting-link"' not in held_page, "not paid: no link yet"
    pay_through_checkout(second_client)
    assert world.database.value("SELECT status::text || '/' || payment_status::text FROM workshop_registrations "
                                "WHERE workshop_id = %s AND user_id = %s", (workshop, second)) == "registered/completed"
    assert 'id="meeting-link"' in text(second_client.get(f"/workshops/w/{slug}"))


@pytest.mark.parametrize("role", ["instructor", "org_admin", "admin"])
def test_every_signed_in_role_pays_for_its_seat_on_the_checkout_page(world, role):
    """Instructors, org admins and admins may register for someone else's paid workshop: their
    checkout page answers them (the buyer's own), not a 404."""
    workshop = gen_workshop(world.database, world.users["owner"], price="12.00", title=f"Paid for {role}")
    slug = slug_of(world, workshop)
    org = gen_org(world.database, f"Org of a paying {role}") if role == "org_admin" else None
    user, email = gen_account(world.database, role, org=org)
    client = world.app.test_client()
    sign_in(client, email)
    registered = client.post(f"/workshops/w/{slug}/register", data={"csrf_token": token_of(client)})
    checkout = registered.headers["Location"]
    assert checkout.startswith("/checkout/")
    page = client.get(checkout)
    assert page.status_code == 200 and f"Paid for {role}" in text(page)
    paid = client.post(checkout + "/pay", data={"csrf_token": token_of(client)})
    assert paid.status_code == 303 and paid.headers["Location"] == f"/workshops/w/{slug}"
    assert world.database.value("SELECT payment_status::text FROM workshop_registrations WHERE workshop_id = %s "
                                "AND user_id = %s", (workshop, user)) == "completed"
    assert world.clients["other_instructor"].get(checkout).status_code == 404, "still the buyer's alone"


def test_attending_a_workshop_with_certificates_issues_one_verified_like_a_courses(world):
    owner = world.users["owner"]
    workshop = gen_workshop(world.database, owner, title="Certified Lab")
    world.database.value("UPDATE workshops SET certificate_enabled = true WHERE id = %s RETURNING 1", (workshop,))
    student, client = extra_student(world)
    seat = register(world.database, student, workshop)
    held(world, workshop)
    send(world, "owner", f"/workshops/{workshop}/registrations/{seat}/attendance", {"status": "attended"})
    code = world.database.value("SELECT code FROM workshop_certificates WHERE registration_id = %s", (seat,))
    assert code and world.database.value("SELECT count(*) FROM notifications WHERE user_id = %s "
                                         "AND event_type = 'certificate_issued'", (student,)) == 1
    page = text(world.clients["anon"].get(f"/certificates/{code}"))
    assert "Certified Lab" in page
    assert f"/certificates/{code}" in text(client.get(f"/workshops/w/{slug_of(world, workshop)}"))
    assert world.clients["anon"].get(f"/certificates/{code}.pdf").status_code == 200
    # Marked absent after all: the certificate is shown revoked.
    send(world, "owner", f"/workshops/{workshop}/registrations/{seat}/attendance", {"status": "no_show"})
    assert world.database.value("SELECT revoked FROM verify_certificate(%s)", (code,)) is True


def test_the_workshop_form_with_nul_in_every_value_answers_as_without(world):
    """A NUL in every value (which PostgreSQL text cannot hold) is dropped at the boundary: saved as the
    same form without it, never a 500."""
    def spoil(value):
        return [spoil(v) for v in value] if isinstance(value, list) else value[:1] + "\x00" + value[1:]
    spoiled = {name: spoil(value) for name, value in {**FORM, "title": "Nul Clinic"}.items() if value}
    response = send(world, "owner", "/workshops/new", {**FORM, **spoiled})
    assert response.status_code == 303, text(response)[:500]
    assert world.database.value("SELECT count(*) FROM workshops WHERE title = 'Nul Clinic'") == 1
