"""016's audit log in SQL: each audited act writes exactly one row (per changed row) with the
changed fields only, its actor and its scope; acts that change nothing audited write none; nobody
(the API roles, service_role, the owner itself) updates, deletes or truncates the log, nor writes
it directly (forging an actor); each caller reads their scope only; triggers switched off (the
benchmark's load) write nothing. The RLS matrix (test_rls_matrix) has the table's row."""

from __future__ import annotations

import json

import psycopg2
import pytest

from tests.support import Actor, complete_course, enroll, gen_course, gen_org, gen_user, gen_workshop, pay

PERMISSIONS = ("view_content", "edit_content", "manage_students", "view_revenue", "respond_reviews")


@pytest.fixture(scope="module")
def w(module_database):
    db = module_database
    org, org2 = gen_org(db, "Audit Org"), gen_org(db, "Other Audit Org")
    u = {"admin": gen_user(db, "admin", name="Audit Admin"),
         "org_admin": gen_user(db, "org_admin", org=org, name="Org Admin"),
         "other_org_admin": gen_user(db, "org_admin", org=org2, name="Other Org Admin"),
         "owner": gen_user(db, "instructor", org=org, name="Owner"),
         "other": gen_user(db, "instructor", org=org2, name="Other Instructor"),
         "co": gen_user(db, "instructor", name="Co Teacher"),
         "student": gen_user(db, "student", name="Student")}
    course = gen_course(db, u["owner"], org=org, price="40.00", lessons=("text",), title="Audited Course")
    other_course = gen_course(db, u["other"], org=org2, lessons=("text",), title="Other Course")
    workshop = gen_workshop(db, u["owner"], org=org, price="10.00", title="Audited Workshop")
    return {"db": db, "u": u, "org": org, "org2": org2, "course": course, "other_course": other_course,
            "workshop": workshop}


def act(w, who, sql, params=None):
    """``sql`` as ``who`` (a user name, 'anon', 'service' or 'owner' for maintenance), committed."""
    if who == "owner_role":
        return w["db"].rows(sql, params)
    actor = {"anon": Actor.anon(), "service": Actor.service()}.get(who) or Actor.user(w["u"][who])
    with w["db"].act(actor) as cur:
        cur.execute(sql, params)
        return cur.fetchall() if cur.description else cur.rowcount


def attempt(w, who, sql, params=None):
    """``sql`` as ``who``, rolled back: the SQLSTATE, or the rows / row count."""
    actor = {"anon": Actor.anon(), "service": Actor.service()}.get(who) or Actor.user(w["u"][who])
    with w["db"].attempt(actor) as cur:
        try:
            cur.execute(sql, params)
        except psycopg2.Error as exc:
            return exc.pgcode
        return cur.fetchall() if cur.description else cur.rowcount


def rows(w, entity):
    return w["db"].rows("SELECT action, entity_type, actor_id, organization_id, course_id, workshop_id, "
                        "instructor_id, before, after, reason FROM audit_log WHERE entity_id = %s ORDER BY id",
                        (entity,))


def one(w, entity):
    found = rows(w, entity)
    assert len(found) == 1, found
    return found[0]


# --- each act, one row ----------------------------------------------------------------------------

def test_a_role_change_by_an_admin(w):
    user = gen_user(w["db"], "student", org=w["org"])
    assert act(w, "admin", "UPDATE users SET role = 'instructor' WHERE id = %s", (user,)) == 1
    row = one(w, user)
    assert (row["action"], row["entity_type"], row["actor_id"], row["organization_id"]) == \
        ("user.role_changed", "user", w["u"]["admin"], w["org"])
    assert (row["before"], row["after"]) == ({"role": "student"}, {"role": "instructor"})


def test_an_organization_change_and_a_combined_change_one_row_per_organization(w):
    """Joining an organization: one row, its own. Moving from one to another: a row for each
    organization, scoped to it, neither carrying the other organization's id; each org admin
    reads their own copy only."""
    user = gen_user(w["db"], "student")
    act(w, "admin", "UPDATE users SET organization_id = %s WHERE id = %s", (w["org"], user))
    act(w, "admin", "UPDATE users SET role = 'org_admin', organization_id = %s WHERE id = %s", (w["org2"], user))
    first, left, joined = rows(w, user)
    assert first["action"] == "user.organization_changed" and first["organization_id"] == w["org"]
    assert (first["before"], first["after"]) == ({"organization_id": None}, {"organization_id": str(w["org"])})
    assert {left["action"], joined["action"]} == {"user.role_changed"}
    assert (left["organization_id"], joined["organization_id"]) == (w["org"], w["org2"])
    assert left["before"] == {"role": "student", "organization_id": str(w["org"])}
    assert left["after"] == {"role": "org_admin"}  # the new organization's id left out
    assert joined["before"] == {"role": "student"}  # the old organization's id left out
    assert joined["after"] == {"role": "org_admin", "organization_id": str(w["org2"])}
    seen = lambda who: attempt(w, who, "SELECT before, after FROM audit_log WHERE entity_id = %s "  # noqa: E731
                                       "AND action = 'user.role_changed'", (user,))
    assert seen("org_admin") == [{"before": left["before"], "after": left["after"]}]
    assert seen("other_org_admin") == [{"before": joined["before"], "after": joined["after"]}]
    assert str(w["org2"]) not in json.dumps(seen("org_admin"))
    assert str(w["org"]) not in json.dumps(seen("other_org_admin"))


def test_deactivation_and_reactivation(w):
    user = gen_user(w["db"], "student")
    act(w, "admin", "UPDATE users SET is_active = false WHERE id = %s", (user,))
    act(w, "admin", "UPDATE users SET is_active = true WHERE id = %s", (user,))
    assert [(r["action"], r["before"], r["after"]) for r in rows(w, user)] == [
        ("user.deactivated", {"is_active": True}, {"is_active": False}),
        ("user.reactivated", {"is_active": False}, {"is_active": True})]


def test_a_name_change_is_not_audited(w):
    user = gen_user(w["db"], "student")
    act(w, "admin", "UPDATE users SET full_name = 'Renamed' WHERE id = %s", (user,))
    act(w, "owner_role", "UPDATE users SET role = role, is_active = is_active WHERE id = %s", (user,))  # no change
    assert rows(w, user) == []


def test_verification_and_featuring(w):
    teacher = gen_user(w["db"], "instructor", org=w["org"])
    act(w, "admin", "UPDATE instructor_profiles SET is_verified = true WHERE user_id = %s", (teacher,))
    act(w, "admin", "UPDATE instructor_profiles SET is_featured = true WHERE user_id = %s", (teacher,))
    act(w, "owner_role", "UPDATE instructor_profiles SET headline = 'Not audited' WHERE user_id = %s", (teacher,))
    found = rows(w, teacher)
    assert [(r["action"], r["before"], r["after"], r["instructor_id"], r["organization_id"]) for r in found] == [
        ("instructor.verified", {"is_verified": False}, {"is_verified": True}, teacher, w["org"]),
        ("instructor.featured", {"is_featured": False}, {"is_featured": True}, teacher, w["org"])]


def test_a_refund_and_a_payout(w):
    db = w["db"]
    student = gen_user(db, "student")
    enrollment = enroll(db, student, w["course"].id)
    pay(db, enrollment)
    sale = db.value("SELECT id FROM revenue_transactions WHERE enrollment_id = %s", (enrollment,))
    assert rows(w, sale) == []  # a sale is not an audited act
    act(w, "admin", "SELECT mark_payouts_paid(%s)", ([sale],))
    payout = one(w, sale)
    assert payout["action"] == "revenue.payout" and payout["actor_id"] == w["u"]["admin"]
    assert payout["before"] == {"payout_status": "pending", "payout_date": None}
    assert payout["after"]["payout_status"] == "paid" and payout["after"]["payout_date"]
    assert (payout["course_id"], payout["instructor_id"], payout["organization_id"]) == \
        (w["course"].id, w["u"]["owner"], w["org"])
    act(w, "admin", "SELECT admin_refund(%s, NULL)", (enrollment,))
    refund = db.value("SELECT id FROM revenue_transactions WHERE refund_of = %s", (sale,))
    row = one(w, refund)
    assert (row["action"], row["actor_id"], row["before"]) == ("revenue.refund", w["u"]["admin"], {})
    assert row["after"] == {"refund_of": str(sale), "amount": -40.0, "currency": "USD",
                            "instructor_earnings": -32.0}


def test_price_changes_of_a_course_and_a_workshop(w):
    act(w, "owner", "UPDATE courses SET price_amount = 45, title = 'Audited Course, again' WHERE id = %s",
        (w["course"].id,))
    act(w, "owner", "UPDATE courses SET subtitle = 'No price change' WHERE id = %s", (w["course"].id,))
    row = one(w, w["course"].id)
    assert (row["action"], row["before"], row["after"], row["actor_id"]) == \
        ("course.price_changed", {"price_amount": 40.0}, {"price_amount": 45.0}, w["u"]["owner"])
    act(w, "owner", "UPDATE workshops SET price_amount = 12, currency = 'EUR' WHERE id = %s", (w["workshop"],))
    row = one(w, w["workshop"])
    assert (row["action"], row["workshop_id"], row["course_id"]) == ("workshop.price_changed", w["workshop"], None)
    assert (row["before"], row["after"]) == ({"price_amount": 10.0, "currency": "USD"},
                                             {"price_amount": 12.0, "currency": "EUR"})


def test_co_instructor_and_facilitator_changes(w):
    perms = json.dumps({p: p == "view_content" for p in PERMISSIONS})
    (team,) = act(w, "owner", "INSERT INTO course_instructors (course_id, instructor_id, permissions) "
                              "VALUES (%s, %s, %s) RETURNING id", (w["course"].id, w["u"]["co"], perms))
    team = team["id"]
    more = json.dumps({p: p in ("view_content", "respond_reviews") for p in PERMISSIONS})
    act(w, "owner", "UPDATE course_instructors SET permissions = %s WHERE id = %s", (more, team))
    act(w, "owner", "DELETE FROM course_instructors WHERE id = %s", (team,))
    added, changed, removed = rows(w, team)
    assert [r["action"] for r in (added, changed, removed)] == \
        ["co_instructor.added", "co_instructor.changed", "co_instructor.removed"]
    assert added["before"] == {} and added["after"]["instructor_id"] == str(w["u"]["co"])
    assert changed["before"] == {"permissions": json.loads(perms)} and changed["after"] == {"permissions": json.loads(more)}
    assert removed["after"] == {} and removed["before"]["role"] == "co-instructor"
    assert {r["course_id"] for r in (added, changed, removed)} == {w["course"].id}
    assert {r["instructor_id"] for r in (added, changed, removed)} == {w["u"]["owner"]}

    (f,) = act(w, "owner", "INSERT INTO workshop_facilitators (workshop_id, facilitator_id) VALUES (%s, %s) "
                           "RETURNING id", (w["workshop"], w["u"]["co"]))
    act(w, "owner", "UPDATE workshop_facilitators SET role = 'assistant' WHERE id = %s", (f["id"],))
    act(w, "owner", "DELETE FROM workshop_facilitators WHERE id = %s", (f["id"],))
    assert [(r["action"], r["workshop_id"]) for r in rows(w, f["id"])] == [
        ("facilitator.added", w["workshop"]), ("facilitator.changed", w["workshop"]),
        ("facilitator.removed", w["workshop"])]


def test_organizations_created_and_renamed(w):
    (org,) = act(w, "admin", "INSERT INTO organizations (name, slug) VALUES ('Fresh Org', 'fresh-org-audit') "
                             "RETURNING id")
    act(w, "admin", "UPDATE organizations SET name = 'Fresher Org' WHERE id = %s", (org["id"],))
    act(w, "admin", "UPDATE organizations SET settings = '{\"x\": 1}' WHERE id = %s", (org["id"],))
    created, renamed = rows(w, org["id"])
    assert (created["action"], created["before"], created["after"]) == \
        ("organization.created", {}, {"name": "Fresh Org", "slug": "fresh-org-audit"})
    assert (renamed["action"], renamed["before"], renamed["after"], renamed["organization_id"]) == \
        ("organization.renamed", {"name": "Fresh Org"}, {"name": "Fresher Org"}, org["id"])


def test_moderation_decisions(w):
    db = w["db"]
    student, reporter = gen_user(db, "student"), gen_user(db, "student")
    complete_course(db, student, w["course"])
    with db.act(Actor.user(student)) as cur:
        cur.execute("INSERT INTO course_reviews (course_id, user_id, rating) VALUES (%s, %s, 2) RETURNING id",
                    (w["course"].id, student))
        review = cur.fetchone()["id"]
    with db.act(Actor.user(reporter)) as cur:
        cur.execute("INSERT INTO review_reports (review_id, reason) VALUES (%s, 'spam') RETURNING id", (review,))
        report = cur.fetchone()["id"]
    act(w, "admin", "UPDATE course_reviews SET is_visible = false, moderation_reason = 'Spam' WHERE id = %s",
        (review,))
    act(w, "admin", "UPDATE course_reviews SET moderation_reason = 'Spam, twice' WHERE id = %s", (review,))
    act(w, "admin", "UPDATE course_reviews SET is_visible = true, moderation_reason = 'Fair after all' "
                    "WHERE id = %s", (review,))
    act(w, "admin", "UPDATE review_reports SET resolved_at = now() WHERE id = %s", (report,))
    found = rows(w, review)
    assert [(r["action"], r["before"], r["after"], r["reason"]) for r in found] == [
        ("review.hidden", {"is_visible": True, "moderation_reason": None},
         {"is_visible": False, "moderation_reason": "Spam"}, "Spam"),
        ("review.reason_changed", {"moderation_reason": "Spam"}, {"moderation_reason": "Spam, twice"}, "Spam, twice"),
        ("review.restored", {"is_visible": False, "moderation_reason": "Spam, twice"},
         {"is_visible": True, "moderation_reason": "Fair after all"}, "Fair after all")]
    assert {(r["course_id"], r["instructor_id"], r["organization_id"]) for r in found} == \
        {(w["course"].id, w["u"]["owner"], w["org"])}
    resolved = one(w, report)
    # resolved while the review stays visible: a dismissal
    assert resolved["action"] == "review_report.dismissed" and resolved["before"] == {"resolved_at": None, "resolved_by": None}
    assert resolved["after"]["resolved_by"] == str(w["u"]["admin"]) and resolved["after"]["review_id"] == str(review)
    # who reported and why stays with moderation: no scope, so admins alone read it
    assert (resolved["course_id"], resolved["instructor_id"], resolved["organization_id"]) == (None, None, None)
    # the student's own edit of their review is not a moderation act
    act_student = Actor.user(student)
    with db.act(act_student) as cur:
        cur.execute("UPDATE course_reviews SET review_text = 'Edited' WHERE id = %s", (review,))
    assert len(rows(w, review)) == 3


def _reported_review(w, reason="spam"):
    db = w["db"]
    student, reporter = gen_user(db, "student"), gen_user(db, "student")
    complete_course(db, student, w["course"])
    with db.act(Actor.user(student)) as cur:
        cur.execute("INSERT INTO course_reviews (course_id, user_id, rating) VALUES (%s, %s, 2) RETURNING id",
                    (w["course"].id, student))
        review = cur.fetchone()["id"]
    with db.act(Actor.user(reporter)) as cur:
        cur.execute("INSERT INTO review_reports (review_id, reason) VALUES (%s, %s) RETURNING id", (review, reason))
        report = cur.fetchone()["id"]
    return review, report, student


def test_a_report_resolved_by_hiding_redated_and_reopened(w):
    review, report, _ = _reported_review(w)
    act(w, "admin", "UPDATE course_reviews SET is_visible = false, moderation_reason = 'Spam' WHERE id = %s",
        (review,))
    act(w, "admin", "UPDATE review_reports SET resolved_at = now() WHERE id = %s", (report,))
    act(w, "admin", "UPDATE review_reports SET resolved_at = now() - interval '1 day' WHERE id = %s", (report,))
    act(w, "admin", "UPDATE review_reports SET resolved_at = NULL WHERE id = %s", (report,))
    found = rows(w, report)
    assert [r["action"] for r in found] == \
        ["review_report.resolved", "review_report.redated", "review_report.reopened"]
    redated = found[1]
    assert set(redated["before"]) == {"resolved_at"} and set(redated["after"]) >= {"resolved_at"}
    assert redated["before"]["resolved_at"] != redated["after"]["resolved_at"]


def test_report_rows_are_read_by_platform_admins_only(w):
    review, report, _ = _reported_review(w, "offensive")
    act(w, "admin", "UPDATE review_reports SET resolved_at = now() WHERE id = %s", (report,))
    query = "SELECT action FROM audit_log WHERE entity_type = 'review_report' AND entity_id = %s"
    assert attempt(w, "admin", query, (report,)) == [{"action": "review_report.dismissed"}]
    for who in ("owner", "org_admin", "co", "student"):
        assert attempt(w, who, query, (report,)) == [], who


def test_deletions_are_audited(w):
    db = w["db"]
    # an admin deletes a report, then a review (its other reports cascade: the review's row says it)
    review, report, author = _reported_review(w)
    act(w, "admin", "DELETE FROM review_reports WHERE id = %s", (report,))
    gone = one(w, report)
    assert (gone["action"], gone["actor_id"], gone["after"]) == ("review_report.deleted", w["u"]["admin"], {})
    assert gone["before"]["review_id"] == str(review) and gone["course_id"] is None
    review2, report2, _ = _reported_review(w)
    act(w, "admin", "DELETE FROM course_reviews WHERE id = %s", (review2,))
    deleted = one(w, review2)
    assert (deleted["action"], deleted["actor_id"]) == ("review.deleted", w["u"]["admin"])
    assert deleted["before"] == {"rating": 2, "is_visible": True, "open_report_count": 1}
    assert (deleted["course_id"], deleted["instructor_id"], deleted["organization_id"]) == \
        (w["course"].id, w["u"]["owner"], w["org"])
    assert rows(w, report2) == []
    # an account
    user = gen_user(db, "student", org=w["org"])
    act(w, "admin", "DELETE FROM users WHERE id = %s", (user,))
    row = one(w, user)
    assert (row["action"], row["organization_id"], row["before"]["role"]) == ("user.deleted", w["org"], "student")
    # an organization
    (org,) = act(w, "admin", "INSERT INTO organizations (name, slug) VALUES ('Doomed Org', 'doomed-org-audit') "
                             "RETURNING id")
    act(w, "admin", "DELETE FROM organizations WHERE id = %s", (org["id"],))
    assert [(r["action"], r["before"]) for r in rows(w, org["id"])] == [
        ("organization.created", {}), ("organization.deleted", {"name": "Doomed Org", "slug": "doomed-org-audit"})]


def test_a_course_deletion_is_one_scoped_row(w):
    """The course's own row, scoped; its team and reviews cascading with it write no unscoped rows."""
    db = w["db"]
    course = gen_course(db, w["u"]["owner"], org=w["org"], lessons=("text",), title="Short-lived")
    perms = json.dumps({p: p == "view_content" for p in PERMISSIONS})
    team = db.value("INSERT INTO course_instructors (course_id, instructor_id, permissions) VALUES (%s, %s, %s) "
                    "RETURNING id", (course.id, w["u"]["co"], perms))
    workshop = gen_workshop(db, w["u"]["owner"], org=w["org"], title="Short-lived Workshop")
    db.value("INSERT INTO workshop_facilitators (workshop_id, facilitator_id) VALUES (%s, %s) RETURNING id",
             (workshop, w["u"]["co"]))
    before = db.value("SELECT max(id) FROM audit_log")
    act(w, "admin", "DELETE FROM courses WHERE id = %s", (course.id,))
    act(w, "admin", "DELETE FROM workshops WHERE id = %s", (workshop,))
    new = db.rows("SELECT action, entity_id, course_id, workshop_id, instructor_id, organization_id, before "
                  "FROM audit_log WHERE id > %s ORDER BY id", (before,))
    assert [(r["action"], r["entity_id"]) for r in new] == [("course.deleted", course.id),
                                                            ("workshop.deleted", workshop)]
    assert (new[0]["course_id"], new[0]["instructor_id"], new[0]["organization_id"]) == \
        (course.id, w["u"]["owner"], w["org"])
    assert (new[1]["workshop_id"], new[1]["instructor_id"], new[1]["organization_id"]) == \
        (workshop, w["u"]["owner"], w["org"])
    assert new[0]["before"]["title"] == "Short-lived"
    assert [r["action"] for r in rows(w, team)] == ["co_instructor.added"]  # no unscoped "removed"
    assert db.value("SELECT count(*) FROM audit_log WHERE id > %s AND instructor_id IS NULL", (before,)) == 0


def test_a_bulk_change_writes_one_row_per_changed_row_and_none_with_triggers_off(w):
    db = w["db"]
    courses = [gen_course(db, w["u"]["other"], lessons=(), price="5").id for _ in range(20)]
    db.rows("UPDATE courses SET price_amount = price_amount + 1 WHERE id = ANY (%s)", (courses,))
    assert db.value("SELECT count(*) FROM audit_log WHERE entity_id = ANY (%s)", (courses,)) == 20
    assert db.value("SELECT count(*) FROM audit_log WHERE entity_id = ANY (%s) AND actor_id IS NULL", (courses,)) == 20
    with db.owner.cursor() as cur:  # the benchmark's load: one transaction, triggers off
        cur.execute("BEGIN")
        cur.execute("ALTER TABLE courses DISABLE TRIGGER USER")
        cur.execute("UPDATE courses SET price_amount = price_amount + 1 WHERE id = ANY (%s)", (courses,))
        cur.execute("ALTER TABLE courses ENABLE TRIGGER USER")
        cur.execute("COMMIT")
    assert db.value("SELECT count(*) FROM audit_log WHERE entity_id = ANY (%s)", (courses,)) == 20


# --- append-only --------------------------------------------------------------------------------

WRITES = {"update": "UPDATE audit_log SET reason = 'rewritten'",
          "delete": "DELETE FROM audit_log",
          "truncate": "TRUNCATE audit_log",
          "insert": "INSERT INTO audit_log (actor_id, action, entity_type, entity_id) "
                    "VALUES (%(someone)s, 'review.hidden', 'course_review', %(someone)s)",
          "insert_forged_actor": "INSERT INTO audit_log (actor_id, action, entity_type, entity_id, reason) "
                                 "OVERRIDING SYSTEM VALUE VALUES (%(someone)s, 'user.role_changed', 'user', "
                                 "%(someone)s, 'forged')"}


@pytest.mark.parametrize("write", WRITES)
@pytest.mark.parametrize("who", ["anon", "student", "owner", "org_admin", "admin", "service"])
def test_no_api_role_writes_the_log(w, who, write):
    before = w["db"].value("SELECT count(*) FROM audit_log")
    assert attempt(w, who, WRITES[write], {"someone": w["u"]["student"]}) == "42501"
    assert w["db"].value("SELECT count(*) FROM audit_log") == before


@pytest.mark.parametrize("write", ["update", "delete", "truncate"])
def test_not_even_the_owner_changes_or_empties_it(w, write):
    db = w["db"]
    act(w, "admin", "UPDATE users SET full_name = full_name, role = 'instructor' WHERE id = %s",
        (gen_user(db, "student"),))
    before = db.value("SELECT count(*) FROM audit_log")
    with pytest.raises(psycopg2.Error) as refused:
        db.rows(WRITES[write])
    assert refused.value.pgcode == "42501" and "append-only" in str(refused.value)
    assert db.value("SELECT count(*) FROM audit_log") == before > 0


def test_the_benchmarks_reset_may_truncate_it(w):
    """The one way to empty it: the benchmark generator's transaction sets portal.audit_log_reset."""
    db = w["db"]
    with db.owner.cursor() as cur:
        cur.execute("BEGIN")
        cur.execute("SET LOCAL portal.audit_log_reset = 'on'")
        cur.execute("TRUNCATE audit_log")
        cur.execute("SELECT count(*) FROM audit_log")
        assert cur.fetchone()[0] == 0
        cur.execute("ROLLBACK")
    assert db.value("SELECT count(*) FROM audit_log") > 0


# --- reads -------------------------------------------------------------------------------------

def test_each_caller_reads_their_scope(w):
    db = w["db"]
    # one act in each scope
    act(w, "owner", "UPDATE courses SET price_amount = price_amount + 1 WHERE id = %s", (w["course"].id,))
    act(w, "other", "UPDATE courses SET price_amount = price_amount + 1 WHERE id = %s", (w["other_course"].id,))
    everything = {r["id"] for r in db.rows("SELECT id FROM audit_log")}
    org_rows = {r["id"] for r in db.rows("SELECT id FROM audit_log WHERE organization_id = %s", (w["org"],))}
    owner_rows = {r["id"] for r in db.rows("SELECT id FROM audit_log WHERE instructor_id = %s", (w["u"]["owner"],))}
    read = lambda who: {r["id"] for r in attempt(w, who, "SELECT id FROM audit_log")}  # noqa: E731
    assert read("admin") == everything and read("service") == everything
    assert read("org_admin") == org_rows and org_rows and org_rows != everything
    assert read("owner") == owner_rows and owner_rows
    assert read("other") and not read("other") & owner_rows
    assert read("student") == set() and read("co") == set()
    assert attempt(w, "anon", "SELECT id FROM audit_log") == "42501"
    # the other organization's admin reads none of this organization's rows, asked for by id or scope
    assert attempt(w, "other_org_admin", "SELECT id FROM audit_log WHERE organization_id = %s", (w["org"],)) == []
    assert attempt(w, "org_admin", "SELECT id FROM audit_log WHERE course_id = %s", (w["other_course"].id,)) == []


def test_a_deactivated_admin_reads_nothing(w):
    db = w["db"]
    admin = gen_user(db, "admin")
    db.rows("UPDATE users SET is_active = false WHERE id = %s", (admin,))
    with db.attempt(Actor.user(admin)) as cur:
        cur.execute("SELECT count(*) AS n FROM audit_log")
        assert cur.fetchone()["n"] == 0


def test_discussion_moderation_is_audited(w):
    """022: a comment or question hidden and shown again, a report on one dismissed or resolved by
    hiding, and deletions, each one row (posts in the course's scope, reports unscoped)."""
    db, course = w["db"], w["course"]
    author, reporter = gen_user(db, "student"), gen_user(db, "student")
    pay(db, enroll(db, author, course.id))
    pay(db, enroll(db, reporter, course.id))
    with db.act(Actor.user(author)) as cur:
        cur.execute("INSERT INTO lesson_comments (course_id, lesson_id, body) VALUES (%s, %s, 'Rude') RETURNING id",
                    (course.id, course.lessons[0]))
        comment = cur.fetchone()["id"]
        cur.execute("INSERT INTO course_questions (course_id, title) VALUES (%s, 'Spam question') RETURNING id",
                    (course.id,))
        question = cur.fetchone()["id"]
    with db.act(Actor.user(reporter)) as cur:
        cur.execute("INSERT INTO discussion_reports (comment_id, reason) VALUES (%s, 'offensive') RETURNING id",
                    (comment,))
        on_comment = cur.fetchone()["id"]
        cur.execute("INSERT INTO discussion_reports (question_id, reason) VALUES (%s, 'spam') RETURNING id",
                    (question,))
        on_question = cur.fetchone()["id"]
    act(w, "admin", "UPDATE lesson_comments SET is_visible = false WHERE id = %s", (comment,))
    act(w, "admin", "UPDATE discussion_reports SET resolved_at = now() WHERE id = %s", (on_comment,))
    act(w, "admin", "UPDATE discussion_reports SET resolved_at = now() WHERE id = %s", (on_question,))
    act(w, "admin", "UPDATE lesson_comments SET is_visible = true WHERE id = %s", (comment,))
    found = rows(w, comment)
    assert [(r["action"], r["before"], r["after"]) for r in found] == [
        ("comment.hidden", {"is_visible": True}, {"is_visible": False}),
        ("comment.restored", {"is_visible": False}, {"is_visible": True})]
    assert {(r["course_id"], r["instructor_id"], r["organization_id"], r["actor_id"]) for r in found} == \
        {(course.id, w["u"]["owner"], w["org"], w["u"]["admin"])}
    assert one(w, on_comment)["action"] == "discussion_report.resolved"
    dismissed = one(w, on_question)
    assert dismissed["action"] == "discussion_report.dismissed" and dismissed["course_id"] is None
    act(w, "admin", "DELETE FROM discussion_reports WHERE id = %s", (on_question,))
    assert [r["action"] for r in rows(w, on_question)] == ["discussion_report.dismissed", "discussion_report.deleted"]
    act(w, "admin", "DELETE FROM course_questions WHERE id = %s", (question,))
    assert one(w, question)["action"] == "question.deleted"
    # a post deleted by its author is audited too; its reports go with it unaudited (the post's row says it)
    with db.act(Actor.user(author)) as cur:
        cur.execute("DELETE FROM lesson_comments WHERE id = %s", (comment,))
    assert [r["action"] for r in rows(w, comment)][-1] == "comment.deleted"
    assert [r["action"] for r in rows(w, on_comment)] == ["discussion_report.resolved"]
