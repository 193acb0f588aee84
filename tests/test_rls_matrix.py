"""The row-level security matrix: every table x every actor x select / insert / update / delete.

The expectations come from shared/spec/access-model.md, not from the policies: where the
database disagrees, the case fails. Where the model is silent the answer is "deny"; where it is
ambiguous the reading taken is written next to the entry (look for "Reading:").

How the table below reads
-------------------------
``MATRIX`` holds one ``T`` per table (every table of schemas public and private; a test checks
none is missing). Each ``T`` has

* ``select``: for every actor, the labels of the rows it must see, exactly (set equality of
  primary keys), ``ALL`` for every seeded row of the table, or ``DENY`` when the role holds no
  privilege on the table at all and the read raises 42501. Reading: a role that may see no row
  of a table ever has no grant on it (PostgREST answers 401/403 rather than an empty list);
  a role that may see some rows gets exactly those, and no row of the others.
* ``insert``, ``update``, ``delete``: one statement (``W``) tried by every actor, with the actors
  for whom it succeeds (``ok``: one row written, then ``check`` is read back inside the same
  transaction), those for whom it raises 42501 (``deny``: a WITH CHECK violation, a missing
  table or column grant, or a guard trigger), and a few other SQLSTATEs (``raises``).
  Every other actor is filtered out by USING: the statement succeeds and touches zero rows.
  anon and service_role hold no write grant on any table, so they are always ``deny``.

``EXTRA`` lists the forgery attempts and the status moves one statement per table cannot show
(stats columns, payment fields, review responses, enrollment and registration moves, ...),
each one row: (id, actor, table, statement, expected outcome[, check]).

Every case runs in ``Database.attempt`` (always rolled back) on one dataset seeded once per
module through the real paths (enroll_in_course, confirm_course_payment, lesson progress,
register_for_workshop, ...), so cases are independent. After a write attempt the table's
contents, read as the owner, must equal what was seeded. Row labels are defined in ``seed``.

Actors: anon; student (S1, a member of the organization, enrolled in three of the owner's
courses); student2 (S2, pending on the owner's paid course, in progress on the standalone
course); owner (the instructor of the organization who owns the org courses and workshops);
other_instructor (an instructor of another organization); co_<permission> (a co-instructor of
the owner's published course holding that single permission; co_none holds none; co_view and
co_edit co-teach the draft course too); facilitator (of the owner's published and draft
workshops); org_admin; other_org_admin; standalone (an instructor without organization);
admin (platform admin); service (service_role). student3 (S3) appears in EXTRA only.

Reading for service_role: the access model lists end users; service_role is the platform's own
back end (README: the payment webhook). It reads every table of public (the back office), writes
only through the functions granted to it, and reaches nothing in private.

010's notices (the outbox): every actor has notices (those the seed's acts caused, through the
triggers, and one reminder each written as the scheduled work writes it, ``private.notify``),
labelled ``n_<recipient>``; ``nt_student`` is the student's reminder alone. The job queue's own
tables (schema procrastinate) are the worker's: tests/test_grants.py and test_security_attacks.py.

011's account tables are seeded through their functions as their actors: sessions
(``start_session``, ``end_sessions``), email changes (``request_email_change`` as portal_signin,
``cancel_email_change`` as the person), and a password reset requested as portal_signin
(``request_password_reset``, for S1's address and for one no account holds) and armed as
portal_worker (``private.arm_password_reset``). Their behaviour is tests/test_account_sql.py's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import psycopg2
import pytest

from tests.support import (Actor, complete_course, enroll, gen_course, gen_lesson, gen_module, gen_org,
                           gen_user, gen_workshop, record_lesson, register)

OK, ZERO, DENY = "ok", "zero rows", "42501"
ALL = "all seeded rows"

ACTORS = ("anon", "student", "student2", "owner", "other_instructor",
          "co_view", "co_edit", "co_manage", "co_revenue", "co_respond", "co_none",
          "facilitator", "org_admin", "other_org_admin", "standalone", "admin", "service")
PERMISSIONS = ("view_content", "edit_content", "manage_students", "view_revenue", "respond_reviews")
CO = {"co_view": "view_content", "co_edit": "edit_content", "co_manage": "manage_students",
      "co_revenue": "view_revenue", "co_respond": "respond_reviews", "co_none": None}
INSTRUCTORS = frozenset({"owner", "other_instructor", "standalone", "facilitator", *CO})
EVERYONE = frozenset(ACTORS)
NO_WRITE_GRANT = frozenset({"anon", "service"})
OPS = ("select", "insert", "update", "delete")


def reads(default=frozenset(), **who):
    """What each actor sees; actors not named see ``default``."""
    unknown = set(who) - set(ACTORS)
    assert not unknown, unknown
    return {actor: who.get(actor, default) for actor in ACTORS}


@dataclass(frozen=True)
class W:
    """One write statement and who may run it (see the module docstring)."""
    sql: str
    ok: frozenset = frozenset()
    deny: frozenset = frozenset()
    raises: dict = field(default_factory=dict)
    check: tuple | None = None          # (query, value): read back as the actor after a success

    def outcome(self, actor):
        if actor in self.raises:
            return self.raises[actor]
        if actor in self.ok:
            return OK
        if actor in self.deny or actor in NO_WRITE_GRANT:
            return DENY
        return ZERO


def nobody(sql):
    """A write no role may make directly (triggers, sign-up, maintenance): 42501 for all."""
    return W(sql, deny=EVERYONE)


@dataclass(frozen=True)
class T:
    name: str
    key: str
    select: dict
    insert: W
    update: W
    delete: W


# Label groups used below (rows are labelled in ``seed``).
DISCUSSING = frozenset({"student", "owner", *CO})   # 022: c_pub's active students and teachers in the matrix
PUB_COURSES = {"c_pub", "c_i2", "c_sa"}
OWN_MODULES = {"m_pub", "m_bonus", "m_draft", "m_arch"}
PREVIEWS = {"l_pub1", "l_i2"}                       # preview lessons of published courses
OWN_LESSONS = {"l_pub1", "l_pub2", "l_pub3", "l_bonus", "l_draft", "l_arch"}
PUB_ENROLLMENTS = {"e_s1_pub", "e_s3_pub", "e_s2_pub"}
PUB_PROGRESS = {"sp_s1_pub", "sp_s3_pub", "sp_s2_pub"}
PUB_ACTIVITY = {"act_pub_s1", "act_pub_s2", "act_pub_s3"}
WPUB_ACTIVITY = {"act_wpub_s1", "act_wpub_s2", "act_wpub_s3"}
OWNER_ACTIVITY = PUB_ACTIVITY | WPUB_ACTIVITY | {"act_arch_s1", "act_wdone_s2"}
ALL_PERMISSIONS = json.dumps({p: True for p in PERMISSIONS})

# 016: the audit rows of the organization's acts (the seed's; labels in ``seed``).
AUDIT_ORG = {"al_org", "al_r_hidden", "al_f_pub", "al_f_draft", "al_ci_view", "al_ci_view_draft", "al_ci_edit",
             "al_ci_edit_draft", "al_ci_manage", "al_ci_revenue", "al_ci_respond", "al_ci_none"}

MATRIX = [
    T("organizations", "id",
      reads(anon=DENY, student={"org"}, owner={"org"}, org_admin={"org"},
            other_instructor={"org2"}, other_org_admin={"org2"}, admin=ALL, service=ALL),
      W("INSERT INTO organizations (name, slug) VALUES ('Matrix Org', 'matrix-org')",
        ok={"admin"}, deny=EVERYONE - {"admin"},
        check=("SELECT count(*) FROM organizations WHERE slug = 'matrix-org'", 1)),
      W("UPDATE organizations SET name = 'Renamed Org' WHERE id = %(org)s", ok={"org_admin", "admin"},
        check=("SELECT name FROM organizations WHERE id = %(org)s", "Renamed Org")),
      # org3 has no members: deleting org2 would orphan its admin (a CHECK), not an RLS matter.
      W("DELETE FROM organizations WHERE id = %(org3)s", ok={"admin"},
        check=("SELECT count(*) FROM organizations WHERE id = %(org3)s", 0))),

    # Reading: "instructors: basic fields of their students" covers a co-instructor who may see
    # the course's enrollments (view_content or manage_students), and a workshop's facilitator.
    T("users", "id",
      reads(anon=DENY, student={"student"}, student2={"student2"},
            owner={"owner", "student", "student2", "student3"},
            other_instructor={"other_instructor"}, standalone={"standalone", "student2"},
            co_view={"co_view", "student", "student2", "student3"},
            co_manage={"co_manage", "student", "student2", "student3"},
            co_edit={"co_edit"}, co_revenue={"co_revenue"}, co_respond={"co_respond"}, co_none={"co_none"},
            facilitator={"facilitator", "student", "student2", "student3"},
            org_admin={"org_admin", "owner", "student"},
            other_org_admin={"other_org_admin", "other_instructor"}, admin=ALL, service=ALL),
      nobody("INSERT INTO users (email, full_name) VALUES ('matrix@example.test', 'Matrix User')"),
      W("UPDATE users SET full_name = 'Renamed Student' WHERE id = %(student)s", ok={"student", "admin"},
        check=("SELECT full_name FROM users WHERE id = %(student)s", "Renamed Student")),
      W("DELETE FROM users WHERE id = %(student2)s", ok={"admin"},
        check=("SELECT count(*) FROM users WHERE id = %(student2)s", 0))),

    T("instructor_profiles", "user_id",
      reads(default=ALL),
      nobody("INSERT INTO instructor_profiles (user_id) VALUES (%(student2)s)"),
      W("UPDATE instructor_profiles SET headline = 'Matrix headline' WHERE user_id = %(owner)s",
        ok={"owner", "admin"},
        check=("SELECT headline FROM instructor_profiles WHERE user_id = %(owner)s", "Matrix headline")),
      W("DELETE FROM instructor_profiles WHERE user_id = %(co_none)s", ok={"admin"},
        check=("SELECT count(*) FROM instructor_profiles WHERE user_id = %(co_none)s", 0))),

    T("instructor_settings", "user_id",
      reads(anon=DENY, service=ALL, **{a: {a} for a in INSTRUCTORS}),
      nobody("INSERT INTO instructor_settings (user_id) VALUES (%(student2)s)"),
      W("UPDATE instructor_settings SET timezone = 'Europe/Paris' WHERE user_id = %(owner)s", ok={"owner"},
        check=("SELECT timezone FROM instructor_settings WHERE user_id = %(owner)s", "Europe/Paris")),
      nobody("DELETE FROM instructor_settings WHERE user_id = %(owner)s")),

    # Reading: a co-instructor with edit_content may read the course they may edit (the model
    # lets them update it, and an UPDATE cannot reach a row its author cannot read).
    T("courses", "id",
      reads(default=PUB_COURSES, student=PUB_COURSES | {"c_arch"}, owner=ALL,
            co_view=PUB_COURSES | {"c_draft"}, co_edit=PUB_COURSES | {"c_draft"},
            org_admin=ALL, admin=ALL, service=ALL),
      W("INSERT INTO courses (title, slug, instructor_id) VALUES ('Matrix Course', 'matrix-course', %(me)s)",
        ok=INSTRUCTORS, deny=EVERYONE - INSTRUCTORS,
        check=("SELECT count(*) FROM courses WHERE slug = 'matrix-course'", 1)),
      W("UPDATE courses SET title = 'Renamed course' WHERE id = %(c_pub)s", ok={"owner", "co_edit", "admin"},
        check=("SELECT title FROM courses WHERE id = %(c_pub)s", "Renamed course")),
      W("DELETE FROM courses WHERE id = %(c_draft)s", ok={"owner", "admin"},
        check=("SELECT count(*) FROM courses WHERE id = %(c_draft)s", 0))),

    # Reading: drip release concerns lessons; a module row is outline, which an enrolled
    # student sees whole. anon gets the outline through the course_outline view (EXTRA).
    T("course_modules", "id",
      reads(anon=DENY, student={"m_pub", "m_bonus", "m_arch"}, student2={"m_sa"}, owner=OWN_MODULES,
            other_instructor={"m_i2"}, standalone={"m_sa"},
            co_view={"m_pub", "m_bonus", "m_draft"}, co_edit={"m_pub", "m_bonus", "m_draft"},
            org_admin=OWN_MODULES, other_org_admin={"m_i2"}, admin=ALL, service=ALL),
      W("INSERT INTO course_modules (course_id, title, position) VALUES (%(c_pub)s, 'Matrix module', 9)",
        ok={"owner", "co_edit"}, deny=EVERYONE - {"owner", "co_edit"},
        check=("SELECT count(*) FROM course_modules WHERE title = 'Matrix module'", 1)),
      W("UPDATE course_modules SET title = 'Renamed module' WHERE id = %(m_bonus)s", ok={"owner", "co_edit"},
        check=("SELECT title FROM course_modules WHERE id = %(m_bonus)s", "Renamed module")),
      W("DELETE FROM course_modules WHERE id = %(m_bonus)s", ok={"owner", "co_edit"},
        check=("SELECT count(*) FROM course_modules WHERE id = %(m_bonus)s", 0))),

    # l_bonus is in a module that opens 30 days after enrollment: no student sees it yet.
    T("course_lessons", "id",
      reads(default=PREVIEWS, student=PREVIEWS | {"l_pub2", "l_pub3", "l_arch"},
            student2=PREVIEWS | {"l_sa1", "l_sa2"}, standalone=PREVIEWS | {"l_sa1", "l_sa2"},
            owner=OWN_LESSONS | PREVIEWS, org_admin=OWN_LESSONS | PREVIEWS,
            co_view=PREVIEWS | {"l_pub2", "l_pub3", "l_bonus", "l_draft"},
            co_edit=PREVIEWS | {"l_pub2", "l_pub3", "l_bonus", "l_draft"}, admin=ALL, service=ALL),
      W("INSERT INTO course_lessons (module_id, course_id, title, position) "
        "VALUES (%(m_bonus)s, %(c_pub)s, 'Matrix lesson', 9)",
        ok={"owner", "co_edit"}, deny=EVERYONE - {"owner", "co_edit"},
        check=("SELECT count(*) FROM course_lessons WHERE title = 'Matrix lesson'", 1)),
      W("UPDATE course_lessons SET title = 'Renamed lesson' WHERE id = %(l_bonus)s", ok={"owner", "co_edit"},
        check=("SELECT title FROM course_lessons WHERE id = %(l_bonus)s", "Renamed lesson")),
      W("DELETE FROM course_lessons WHERE id = %(l_bonus)s", ok={"owner", "co_edit"},
        check=("SELECT count(*) FROM course_lessons WHERE id = %(l_bonus)s", 0))),

    # The update approves S2's pending (paid) enrollment. S2 reaches their own row but may
    # only cancel it: the guard refuses the move (42501).
    T("course_enrollments", "id",
      reads(anon=DENY, student={"e_s1_pub", "e_s1_arch"}, student2={"e_s2_pub", "e_s2_sa"},
            owner=PUB_ENROLLMENTS | {"e_s1_arch"}, standalone={"e_s2_sa"},
            co_view=PUB_ENROLLMENTS, co_manage=PUB_ENROLLMENTS,
            org_admin=PUB_ENROLLMENTS | {"e_s1_arch"}, admin=ALL, service=ALL),
      nobody("INSERT INTO course_enrollments (course_id, user_id, status, payment_status) "
             "VALUES (%(c_i2)s, %(me)s, 'enrolled', 'completed')"),
      W("UPDATE course_enrollments SET status = 'enrolled' WHERE id = %(e_s2_pub)s",
        ok={"owner", "co_manage"}, deny={"student2"},
        check=("SELECT status::text FROM course_enrollments WHERE id = %(e_s2_pub)s", "enrolled")),
      W("DELETE FROM course_enrollments WHERE id = %(e_s2_sa)s", ok={"admin"},
        check=("SELECT count(*) FROM course_enrollments WHERE id = %(e_s2_sa)s", 0))),

    # Reading: the unqualified "co" is limited by its permissions as for student_progress
    # (view_content or manage_students). The model gives org admins no access here.
    T("lesson_progress", "id",
      reads(anon=DENY, student={"lp_s1_pub", "lp_s1_arch"}, student2={"lp_s2_sa"},
            owner={"lp_s1_pub", "lp_s3_pub", "lp_s1_arch"}, standalone={"lp_s2_sa"},
            co_view={"lp_s1_pub", "lp_s3_pub"}, co_manage={"lp_s1_pub", "lp_s3_pub"}, admin=ALL, service=ALL),
      # Written only through the progress functions (007), by the enrolled student.
      nobody("INSERT INTO lesson_progress (enrollment_id, lesson_id, user_id, course_id, status) "
             "VALUES (%(e_s2_sa)s, %(l_sa2)s, %(me)s, %(c_sa)s, 'completed')"),
      nobody("UPDATE lesson_progress SET watch_time_seconds = 120 WHERE id = %(lp_s2_sa)s"),
      nobody("DELETE FROM lesson_progress WHERE id = %(lp_s2_sa)s")),

    # Triggers only: the update is student2 forging their own progress, among others.
    T("student_progress", "id",
      reads(anon=DENY, student={"sp_s1_pub", "sp_s1_arch"}, student2={"sp_s2_pub", "sp_s2_sa"},
            owner=PUB_PROGRESS | {"sp_s1_arch"}, standalone={"sp_s2_sa"},
            co_view=PUB_PROGRESS, co_manage=PUB_PROGRESS,
            org_admin=PUB_PROGRESS | {"sp_s1_arch"}, admin=ALL, service=ALL),
      nobody("INSERT INTO student_progress (enrollment_id, user_id, course_id) "
             "VALUES (%(e_s2_sa)s, %(student2)s, %(c_sa)s)"),
      nobody("UPDATE student_progress SET progress_percentage = 100 WHERE id = %(sp_s2_sa)s"),
      nobody("DELETE FROM student_progress WHERE id = %(sp_s2_sa)s")),

    # Reading: "co for their co-taught courses" is limited by permissions as for the same
    # students' progress (view_content or manage_students); a workshop's facilitator is its co.
    T("student_activity", "id",
      reads(anon=DENY, student={"act_pub_s1", "act_arch_s1", "act_wpub_s1"},
            student2={"act_pub_s2", "act_sa_s2", "act_wpub_s2", "act_wdone_s2"},
            owner=OWNER_ACTIVITY, standalone={"act_sa_s2"},
            co_view=PUB_ACTIVITY, co_manage=PUB_ACTIVITY, facilitator=WPUB_ACTIVITY,
            org_admin=OWNER_ACTIVITY, admin=ALL, service=ALL),
      nobody("INSERT INTO student_activity (activity_type, instructor_id, student_id, course_id) "
             "VALUES ('course_completed', %(owner)s, %(student2)s, %(c_pub)s)"),
      nobody("UPDATE student_activity SET metadata = '{}' WHERE course_id = %(c_pub)s"),
      nobody("DELETE FROM student_activity WHERE course_id = %(c_pub)s")),

    # The model gives students no read of revenue rows (their payment is on the enrollment).
    T("revenue_transactions", "id",
      reads(anon=DENY, owner=ALL, co_revenue={"rev_s1_pub", "rev_s3_pub"}, org_admin=ALL,
            admin=ALL, service=ALL),
      nobody("INSERT INTO revenue_transactions (instructor_id, course_id, transaction_type, amount, "
             "platform_fee_amount, instructor_earnings) "
             "VALUES (%(owner)s, %(c_pub)s, 'course_enrollment', 1000, 200, 800)"),
      # Payouts go through mark_payouts_paid() (EXTRA), never a direct UPDATE, admin included.
      nobody("UPDATE revenue_transactions SET payout_status = 'paid', payout_date = now() "
             "WHERE id = %(rev_s1_pub)s"),
      nobody("DELETE FROM revenue_transactions WHERE id = %(rev_s1_pub)s")),

    # Reading: "owner and co for their courses" means a co whose permissions concern reviews or
    # content: view_content or respond_reviews (one cannot respond to a review one cannot read).
    # r_hidden was hidden by an admin; the model gives org admins only the public ones.
    T("course_reviews", "id",
      reads(default={"r_pub"}, owner=ALL, co_view=ALL, co_respond=ALL, admin=ALL, service=ALL),
      W("INSERT INTO course_reviews (course_id, user_id, rating, title) "
        "VALUES (%(c_arch)s, %(me)s, 4, 'Matrix review')",
        ok={"student"}, deny=EVERYONE - {"student"},
        check=("SELECT count(*) FROM course_reviews WHERE course_id = %(c_arch)s", 1)),
      # The text is the author's: the owner, co_respond and admin reach the row but may
      # change only the response / the moderation fields, so the guard raises.
      W("UPDATE course_reviews SET review_text = 'Edited text' WHERE id = %(r_pub)s",
        ok={"student"}, deny={"owner", "co_respond", "admin"},
        check=("SELECT review_text FROM course_reviews WHERE id = %(r_pub)s", "Edited text")),
      # 016: the author deletes only a visible review with no open report; r_pub is under S2's
      # report, so it stays until a moderator decides (EXTRA: the author and r_hidden).
      W("DELETE FROM course_reviews WHERE id = %(r_pub)s", ok={"admin"},
        check=("SELECT count(*) FROM course_reviews WHERE id = %(r_pub)s", 0))),

    # S1 attended and already left feedback: "once" makes a second one a unique violation.
    T("workshop_feedback", "id",
      reads(anon=DENY, student={"fb_s1"}, owner=ALL, facilitator=ALL, org_admin=ALL, admin=ALL, service=ALL),
      W("INSERT INTO workshop_feedback (workshop_id, user_id, overall_satisfaction) "
        "VALUES (%(w_pub)s, %(me)s, 4)",
        deny=EVERYONE - {"student"}, raises={"student": "23505"}),
      W("UPDATE workshop_feedback SET what_went_well = 'Edited' WHERE id = %(fb_s1)s", ok={"student"},
        check=("SELECT what_went_well FROM workshop_feedback WHERE id = %(fb_s1)s", "Edited")),
      W("DELETE FROM workshop_feedback WHERE id = %(fb_s1)s", ok={"admin"},
        check=("SELECT count(*) FROM workshop_feedback WHERE id = %(fb_s1)s", 0))),

    T("course_instructors", "id",
      # The table holds the permissions: the owner, the co-teacher (own rows) and admins read
      # it; the public's "names and roles only" is the course_teachers view (test below).
      reads(anon=DENY, co_view={"ci_view", "ci_view_draft"}, co_edit={"ci_edit", "ci_edit_draft"},
            co_manage={"ci_manage"}, co_revenue={"ci_revenue"}, co_respond={"ci_respond"},
            co_none={"ci_none"}, owner=ALL, admin=ALL, service=ALL),
      W("INSERT INTO course_instructors (course_id, instructor_id, permissions) "
        "VALUES (%(c_pub)s, %(standalone)s, '{\"view_content\": true}')",
        ok={"owner", "admin"}, deny=EVERYONE - {"owner", "admin"},
        check=("SELECT count(*) FROM course_instructors WHERE course_id = %(c_pub)s "
               "AND instructor_id = %(standalone)s", 1)),
      W("UPDATE course_instructors SET role = 'assistant' WHERE id = %(ci_none)s", ok={"owner", "admin"},
        check=("SELECT role::text FROM course_instructors WHERE id = %(ci_none)s", "assistant")),
      W("DELETE FROM course_instructors WHERE id = %(ci_none)s", ok={"owner", "admin"},
        check=("SELECT count(*) FROM course_instructors WHERE id = %(ci_none)s", 0))),

    # 004: early unlocks. Unlocking is managing a student (owner, co with manage_students);
    # those who read the course's students read them, and the student their own.
    T("drip_unlocks", "id",
      reads(anon=DENY, owner=ALL, co_view=ALL, co_manage=ALL, org_admin=ALL, admin=ALL, service=ALL),
      W("INSERT INTO drip_unlocks (enrollment_id, user_id, course_id, lesson_id) "
        "VALUES (%(e_s1_pub)s, %(student)s, %(c_pub)s, %(l_bonus)s)",
        ok={"owner", "co_manage", "admin"}, deny=EVERYONE - {"owner", "co_manage", "admin"},
        check=("SELECT count(*) FROM drip_unlocks WHERE enrollment_id = %(e_s1_pub)s", 1)),
      nobody("UPDATE drip_unlocks SET module_id = NULL WHERE id = %(du_s3_pub)s"),
      W("DELETE FROM drip_unlocks WHERE id = %(du_s3_pub)s", ok={"owner", "co_manage", "admin"},
        check=("SELECT count(*) FROM drip_unlocks WHERE id = %(du_s3_pub)s", 0))),

    # w_done is completed (no longer published) and S2 was registered for it. Reading: the
    # model's rule for archived courses ("a student keeps seeing an archived course they are
    # enrolled in") applies to workshops too, so an attendee can still find it to leave feedback
    # (a deliberate extension, documented in 002's workshops_read policy).
    T("workshops", "id",
      reads(default={"w_pub"}, student2={"w_pub", "w_done"}, owner=ALL, facilitator={"w_pub", "w_draft"}, org_admin=ALL,
            admin=ALL, service=ALL),
      W("INSERT INTO workshops (instructor_id, title, slug, start_time, end_time, capacity, meeting_url) "
        "VALUES (%(me)s, 'Matrix Workshop', 'matrix-workshop', now() + interval '30 days', "
        "now() + interval '30 days 2 hours', 5, 'https://meet.example.test/m')",
        ok=INSTRUCTORS, deny=EVERYONE - INSTRUCTORS,
        check=("SELECT count(*) FROM workshops WHERE slug = 'matrix-workshop'", 1)),
      W("UPDATE workshops SET title = 'Renamed workshop' WHERE id = %(w_pub)s",
        ok={"owner", "facilitator", "admin"},
        check=("SELECT title FROM workshops WHERE id = %(w_pub)s", "Renamed workshop")),
      W("DELETE FROM workshops WHERE id = %(w_draft)s", ok={"owner", "admin"},
        check=("SELECT count(*) FROM workshops WHERE id = %(w_draft)s", 0))),

    # The update marks S2's unpaid seat a no-show: staff only; S2 reaches the row, the guard
    # refuses. (An unpaid seat is never marked attended: an extra case below.)
    T("workshop_registrations", "id",
      reads(anon=DENY, student={"reg_s1"}, student2={"reg_s2", "reg_s2_done"}, owner=ALL,
            facilitator={"reg_s1", "reg_s2", "reg_s3"}, org_admin=ALL, admin=ALL, service=ALL),
      nobody("INSERT INTO workshop_registrations (workshop_id, user_id, status, payment_status) "
             "VALUES (%(w_pub)s, %(me)s, 'registered', 'completed')"),
      W("UPDATE workshop_registrations SET status = 'no_show' WHERE id = %(reg_s2)s",
        ok={"owner", "facilitator"}, deny={"student2"},
        check=("SELECT status::text FROM workshop_registrations WHERE id = %(reg_s2)s", "no_show")),
      W("DELETE FROM workshop_registrations WHERE id = %(reg_s2)s", ok={"admin"},
        check=("SELECT count(*) FROM workshop_registrations WHERE id = %(reg_s2)s", 0))),

    T("workshop_facilitators", "id",
      reads(default={"f_pub"}, facilitator=ALL, owner=ALL, admin=ALL, service=ALL),
      W("INSERT INTO workshop_facilitators (workshop_id, facilitator_id) VALUES (%(w_pub)s, %(standalone)s)",
        ok={"owner", "admin"}, deny=EVERYONE - {"owner", "admin"},
        check=("SELECT count(*) FROM workshop_facilitators WHERE workshop_id = %(w_pub)s "
               "AND facilitator_id = %(standalone)s", 1)),
      W("UPDATE workshop_facilitators SET role = 'assistant' WHERE id = %(f_pub)s", ok={"owner", "admin"},
        check=("SELECT role::text FROM workshop_facilitators WHERE id = %(f_pub)s", "assistant")),
      W("DELETE FROM workshop_facilitators WHERE id = %(f_pub)s", ok={"owner", "admin"},
        check=("SELECT count(*) FROM workshop_facilitators WHERE id = %(f_pub)s", 0))),

    # Not in the model: deny (service_role reads public, see the docstring).
    T("schema_migrations", "name",
      reads(default=DENY, service=ALL),
      nobody("INSERT INTO schema_migrations (name, checksum) VALUES ('999_matrix.sql', 'x')"),
      nobody("UPDATE schema_migrations SET checksum = 'x'"),
      nobody("DELETE FROM schema_migrations")),

    T("private.user_credentials", "user_id",
      reads(default=DENY),
      nobody("INSERT INTO private.user_credentials (user_id, password_hash) "
             "VALUES (%(student2)s, '$argon2id$matrix')"),
      nobody("UPDATE private.user_credentials SET password_hash = '$argon2id$forged'"),
      nobody("DELETE FROM private.user_credentials")),

    T("private.student_activity_archive", "id",
      reads(default=DENY),
      nobody("INSERT INTO private.student_activity_archive (activity_type, instructor_id, student_id) "
             "VALUES ('enrolled', %(owner)s, %(student2)s)"),
      nobody("UPDATE private.student_activity_archive SET metadata = '{}'"),
      nobody("DELETE FROM private.student_activity_archive")),

    # 003: failed sign-ins, reachable only through sign_in_throttled() and
    # record_sign_in_failure().
    T("private.sign_in_failures", "id",
      reads(default=DENY),
      nobody("INSERT INTO private.sign_in_failures (email, address) VALUES ('x@example.test', '127.0.0.1')"),
      nobody("UPDATE private.sign_in_failures SET address = 'forged'"),
      nobody("DELETE FROM private.sign_in_failures")),

    # 005: checkouts. S2 paid for c_pub through a declined checkout and a successful retry.
    # Written only by start_checkout() and apply_payment_event(); read by the student, the
    # staff who see the course's money or its students, the org admin and admins.
    # A checkout is money: the buyer and those who may read the course's revenue (007),
    # no longer a co-instructor who only manages students.
    T("checkouts", "id",
      reads(anon=DENY, student2=ALL, owner=ALL, co_revenue=ALL, org_admin=ALL, admin=ALL, service=ALL),
      nobody("INSERT INTO checkouts (enrollment_id, user_id, course_id, provider, amount, currency) "
             "VALUES (%(e_s2_pub)s, %(student2)s, %(c_pub)s, 'test', 49.99, 'USD')"),
      nobody("UPDATE checkouts SET status = 'succeeded', settled_at = now() WHERE id = %(co_failed)s"),
      nobody("DELETE FROM checkouts WHERE id = %(co_failed)s")),

    # The provider's events: the back office's alone.
    T("payment_events", "event_id",
      reads(default=DENY, service=ALL),
      nobody("INSERT INTO payment_events (event_id, kind, outcome) "
             "VALUES ('evt_forged', 'payment.succeeded', 'succeeded')"),
      nobody("UPDATE payment_events SET outcome = 'ignored'"),
      nobody("DELETE FROM payment_events")),

    # Certificates: issued by the completion trigger; the holder, the course's staff (as for its
    # students' progress), the org admin and admins read them; the public verifies a code
    # through verify_certificate() (test_learning_sql).
    T("certificates", "id",
      reads(anon=DENY, student={"cert_s1_pub"}, owner=ALL, co_view=ALL, co_manage=ALL, org_admin=ALL,
            admin=ALL, service=ALL),
      nobody("INSERT INTO certificates (enrollment_id, user_id, course_id, student_name, course_title, "
             "instructor_name) VALUES (%(e_s1_arch)s, %(student)s, %(c_arch)s, 'Me', 'Forged', 'Nobody')"),
      nobody("UPDATE certificates SET student_name = 'Someone Else' WHERE id = %(cert_s1_pub)s"),
      nobody("DELETE FROM certificates WHERE id = %(cert_s1_pub)s")),

    # Helpful votes on r_pub (S1's review): S2 and S3 voted. Anyone signed in who sees the
    # review may vote once, never its author nor its course's teachers (007); each voter
    # withdraws only their own vote.
    # 021: certificates of attendance, issued when a seat is marked attended (the clinic gives them):
    # the holder, the workshop's staff, the org admin and admins read them; nobody writes them.
    T("workshop_certificates", "id",
      reads(anon=DENY, student={"wcert_s1"}, owner=ALL, facilitator=ALL, org_admin=ALL,
            admin=ALL, service=ALL),
      nobody("INSERT INTO workshop_certificates (registration_id, user_id, workshop_id, student_name, "
             "workshop_title, instructor_name) VALUES (%(reg_s2)s, %(student2)s, %(w_pub)s, 'Me', 'Forged', 'X')"),
      nobody("UPDATE workshop_certificates SET student_name = 'Someone Else' WHERE id = %(wcert_s1)s"),
      nobody("DELETE FROM workshop_certificates WHERE id = %(wcert_s1)s")),

    T("review_helpful_votes", "user_id",
      reads(anon=DENY, student2={"hv_s2"}, admin=ALL, service=ALL),
      W("INSERT INTO review_helpful_votes (review_id) VALUES (%(r_pub)s)",
        ok=EVERYONE - NO_WRITE_GRANT - {"student", "student2", "owner", *CO},
        deny={"student", "owner", *CO},
        raises={"student2": "23505"},
        check=("SELECT count(*) FROM review_helpful_votes WHERE review_id = %(r_pub)s AND user_id = %(me)s", 1)),
      nobody("UPDATE review_helpful_votes SET created_at = now()"),
      W("DELETE FROM review_helpful_votes WHERE user_id = %(student2)s", ok={"student2"},
        check=("SELECT count(*) FROM review_helpful_votes WHERE user_id = %(student2)s", 0))),

    # Reports: S2 reported r_pub. Anyone signed in who sees a review may report it once, never
    # its author; the reporter reads their own; admins read, resolve and delete.
    T("review_reports", "id",
      reads(anon=DENY, student2={"rep_s2"}, admin=ALL, service=ALL),
      W("INSERT INTO review_reports (review_id, reason, details) VALUES (%(r_pub)s, 'offensive', 'Matrix')",
        ok=EVERYONE - NO_WRITE_GRANT - {"student", "student2"}, deny={"student"},
        raises={"student2": "23505"},
        check=("SELECT count(*) FROM review_reports WHERE review_id = %(r_pub)s AND reporter_id = %(me)s", 1)),
      W("UPDATE review_reports SET resolved_at = now() WHERE id = %(rep_s2)s", ok={"admin"},
        check=("SELECT resolved_by = %(me)s FROM review_reports WHERE id = %(rep_s2)s", True)),
      W("DELETE FROM review_reports WHERE id = %(rep_s2)s", ok={"admin"},
        check=("SELECT count(*) FROM review_reports WHERE id = %(rep_s2)s", 0))),

    # 010: the kinds of notice and their defaults: read by anon and everyone signed in (the
    # preferences page lists them), written by nobody through the API (a new kind is a migration).
    T("notification_events", "event_type",
      reads(default=ALL),
      nobody("INSERT INTO notification_events (event_type, audience, label, email_default, in_portal_default, "
             "position) VALUES ('forged_event', 'any', 'A forged kind of notice', true, true, 99)"),
      nobody("UPDATE notification_events SET email_default = false WHERE event_type = 'new_review'"),
      nobody("DELETE FROM notification_events WHERE event_type = 'figures_mismatch'")),

    # 010: the preferences of those without instructor_settings: one's own row only, read, created
    # and changed by oneself (anyone signed in may create theirs); nobody deletes one through the API.
    # S1 and S2 saved theirs through the API; a second row of one's own is a conflict.
    T("notification_settings", "user_id",
      reads(anon=DENY, student={"ns_student"}, student2={"ns_student2"}, service=ALL),
      W("INSERT INTO notification_settings (user_id, timezone) VALUES (%(me)s, 'Europe/Paris')",
        ok=EVERYONE - NO_WRITE_GRANT - {"student", "student2"},
        raises={"student": "23505", "student2": "23505"},
        check=("SELECT timezone FROM notification_settings WHERE user_id = %(me)s", "Europe/Paris")),
      W("UPDATE notification_settings SET timezone = 'Europe/Paris' WHERE user_id = %(student)s", ok={"student"},
        check=("SELECT timezone FROM notification_settings WHERE user_id = %(student)s", "Europe/Paris")),
      nobody("DELETE FROM notification_settings WHERE user_id = %(student)s")),

    # 010: a notice is its recipient's alone: they read it and mark it read (read_at, the one
    # column anyone may write); nobody inserts or deletes one through the API, admins included.
    # Reading: service_role reads it (the back office reads every table of public).
    T("notifications", "id",
      reads(anon=DENY, service=ALL, **{a: {"n_" + a} for a in ACTORS if a not in ("anon", "service")}),
      nobody("INSERT INTO notifications (user_id, event_type, payload, in_portal, email_state) "
             "VALUES (%(me)s, 'new_review', '{\"rating\": 5}', true, 'off')"),
      W("UPDATE notifications SET read_at = now() WHERE id = %(nt_student)s", ok={"student"},
        check=("SELECT read_at = now() FROM notifications WHERE id = %(nt_student)s", True)),
      nobody("DELETE FROM notifications WHERE id = %(nt_student)s")),

    # 010: how far one has read ("mark all as read"): one's own row, read by oneself; written only by
    # mark_all_notifications_read(), which stamps now() (nobody writes the table directly).
    T("notification_read_marks", "user_id",
      reads(anon=DENY, student={"rm_student"}, owner={"rm_owner"}, service=ALL),
      nobody("INSERT INTO notification_read_marks (user_id, read_through) VALUES (%(me)s, now())"),
      nobody("UPDATE notification_read_marks SET read_through = 'infinity' WHERE user_id = %(student)s"),
      nobody("DELETE FROM notification_read_marks WHERE user_id = %(student)s")),

    # 010: why a job last failed, written by the worker through record_job_error(), read by admins
    # through job_queue_jobs().
    T("private.job_errors", "job_id",
      reads(default=DENY),
      nobody("INSERT INTO private.job_errors (job_id, attempt, error) "
             "SELECT id, 1, 'forged' FROM procrastinate.procrastinate_jobs LIMIT 1"),
      nobody("UPDATE private.job_errors SET error = 'rewritten'"),
      nobody("DELETE FROM private.job_errors")),

    # 011: sessions. S1 signed in twice (and signed one of them out), S2 and the owner once, each
    # through start_session() as themself. One's own sessions are read (not their user_id column:
    # EXTRA); only start_session(), end_sessions(), change_password() and the deactivation
    # trigger write the table. Reading: service_role holds nothing on it (011 revokes it), unlike
    # the rest of public: a session's address and browser are its person's alone, and the back
    # office has no use for them.
    T("user_sessions", "id",
      reads(anon=DENY, service=DENY, student={"us_student", "us_student_ended"}, student2={"us_student2"},
            owner={"us_owner"}),
      nobody("INSERT INTO user_sessions (user_id, user_agent, address) VALUES (%(me)s, 'Forged', '192.0.2.9')"),
      nobody("UPDATE user_sessions SET revoked_at = NULL WHERE id = %(us_student_ended)s"),
      nobody("DELETE FROM user_sessions WHERE id = %(us_student)s")),

    # 011: email changes. S2 asked for one (pending); S1 asked for one and cancelled it, through
    # request_email_change() (as portal_signin) / cancel_email_change(). One's own are read; only those functions and
    # confirm_email_change() write the table. service_role: as for user_sessions.
    T("email_changes", "id",
      reads(anon=DENY, service=DENY, student={"ec_student"}, student2={"ec_student2"}),
      nobody("INSERT INTO email_changes (user_id, new_email) VALUES (%(me)s, 'forged@example.test')"),
      nobody("UPDATE email_changes SET confirmed_at = now() WHERE id = %(ec_student2)s"),
      nobody("DELETE FROM email_changes WHERE id = %(ec_student2)s")),

    # 014: an instructor's private notes on a student: note_owner (the owner on S1, c_pub), note_co (co_manage
    # on S1, c_pub: co-instructors do not share notes) and note_standalone (on S2, c_sa). Reading: the
    # author only; the model is silent beyond "the instructor's private notes", so no co, student, org
    # admin or admin reads them, and service_role (the back office) holds no grant. Read, written, edited and
    # deleted by the author while the student is enrolled in a course they own or co-teach with
    # manage_students (note_former: co_view's, from when it managed; now nobody's to read).
    T("instructor_student_notes", "id",
      reads(anon=DENY, service=DENY, owner={"note_owner"}, co_manage={"note_co"},
            standalone={"note_standalone"}),
      W("INSERT INTO instructor_student_notes (instructor_id, student_id, course_id, body) "
        "VALUES (%(me)s, %(student3)s, %(c_pub)s, 'Matrix note')",
        ok={"owner", "co_manage"}, deny=EVERYONE - {"owner", "co_manage"},
        check=("SELECT count(*) FROM instructor_student_notes WHERE student_id = %(student3)s", 1)),
      W("UPDATE instructor_student_notes SET body = 'Edited' WHERE id = %(note_owner)s", ok={"owner"},
        check=("SELECT body FROM instructor_student_notes WHERE id = %(note_owner)s", "Edited")),
      W("DELETE FROM instructor_student_notes WHERE id = %(note_owner)s", ok={"owner"},
        check=("SELECT count(*) FROM instructor_student_notes WHERE id = %(note_owner)s", 0))),

    # 022: a lesson's comments (cm_s1: S1's on l_pub1; cm_owner: the owner's reply), a question (q_s1,
    # S1's), its answer (qa_owner) and S3's report on it (dr_s3). Participants of c_pub read them: its
    # active students (S1, S3; S2 is pending) and every teacher (the owner, each co-instructor whatever
    # their permissions), and admins (moderation); nobody else, org admins included (the model is
    # silent: deny). Students ask; participants comment and answer; authors edit and delete their own
    # (the admin reaches the row but the guard refuses the text); the asker alone accepts.
    T("lesson_comments", "id",
      reads(anon=DENY, service=DENY, student=ALL, owner=ALL, admin=ALL, **{co: ALL for co in CO}),
      W("INSERT INTO lesson_comments (course_id, lesson_id, body) VALUES (%(c_pub)s, %(l_pub1)s, 'Matrix comment')",
        ok=DISCUSSING, deny=EVERYONE - DISCUSSING,
        check=("SELECT count(*) FROM lesson_comments WHERE body = 'Matrix comment'", 1)),
      W("UPDATE lesson_comments SET body = 'Edited' WHERE id = %(cm_s1)s", ok={"student"}, deny={"admin"},
        check=("SELECT body FROM lesson_comments WHERE id = %(cm_s1)s", "Edited")),
      W("DELETE FROM lesson_comments WHERE id = %(cm_owner)s", ok={"owner", "admin"},
        check=("SELECT count(*) FROM lesson_comments WHERE id = %(cm_owner)s", 0))),
    T("course_questions", "id",
      reads(anon=DENY, service=DENY, student=ALL, owner=ALL, admin=ALL, **{co: ALL for co in CO}),
      W("INSERT INTO course_questions (course_id, title) VALUES (%(c_pub)s, 'Matrix question?')",
        ok={"student"}, deny=EVERYONE - {"student"},
        check=("SELECT count(*) FROM course_questions WHERE title = 'Matrix question?'", 1)),
      W("UPDATE course_questions SET accepted_answer_id = %(qa_owner)s WHERE id = %(q_s1)s", ok={"student"},
        deny={"admin"}, check=("SELECT accepted_answer_id = %(qa_owner)s FROM course_questions WHERE id = %(q_s1)s",
                               True)),
      # q_s1 has an answer and an open report: only an admin deletes it
      W("DELETE FROM course_questions WHERE id = %(q_s1)s", ok={"admin"},
        check=("SELECT count(*) FROM course_questions WHERE id = %(q_s1)s", 0))),
    T("question_answers", "id",
      reads(anon=DENY, service=DENY, student=ALL, owner=ALL, admin=ALL, **{co: ALL for co in CO}),
      W("INSERT INTO question_answers (question_id, course_id, body) VALUES (%(q_s1)s, %(c_pub)s, 'Matrix answer')",
        ok=DISCUSSING, deny=EVERYONE - DISCUSSING,
        check=("SELECT count(*) FROM question_answers WHERE body = 'Matrix answer'", 1)),
      W("UPDATE question_answers SET body = 'Edited' WHERE id = %(qa_owner)s", ok={"owner"}, deny={"admin"},
        check=("SELECT body FROM question_answers WHERE id = %(qa_owner)s", "Edited")),
      W("DELETE FROM question_answers WHERE id = %(qa_owner)s", ok={"owner", "admin"},
        check=("SELECT count(*) FROM question_answers WHERE id = %(qa_owner)s", 0))),
    # Written only by submit_assignment() and grade_assignment() (tests/test_discussions_sql.py reads
    # and grades them by actor); no row here (c_pub has no assignment lesson).
    T("assignment_submissions", "id",
      reads(anon=DENY, service=DENY),
      nobody("INSERT INTO assignment_submissions (enrollment_id, user_id, course_id, lesson_id, body) "
             "VALUES (%(e_s1_pub)s, %(student)s, %(c_pub)s, %(l_pub1)s, 'Forged')"),
      nobody("UPDATE assignment_submissions SET score = 100"),
      nobody("DELETE FROM assignment_submissions")),
    # Reports: the reporter and admins read them (S3 appears in EXTRA only); a participant reports what
    # they read and did not write (S1 wrote cm_s1); admins resolve and delete.
    T("discussion_reports", "id",
      reads(anon=DENY, service=DENY, admin=ALL),
      W("INSERT INTO discussion_reports (comment_id, reason) VALUES (%(cm_s1)s, 'spam')",
        ok=DISCUSSING - {"student"} | {"admin"}, deny=EVERYONE - (DISCUSSING - {"student"} | {"admin"}),
        check=("SELECT open_report_count FROM lesson_comments WHERE id = %(cm_s1)s", 1)),
      W("UPDATE discussion_reports SET resolved_at = now() WHERE id = %(dr_s3)s", ok={"admin"},
        check=("SELECT open_report_count FROM course_questions WHERE id = %(q_s1)s", 0)),
      W("DELETE FROM discussion_reports WHERE id = %(dr_s3)s", ok={"admin"},
        check=("SELECT count(*) FROM discussion_reports WHERE id = %(dr_s3)s", 0))),

    # 016: the audit log, written by the database's triggers only. The seed's audited acts: the three
    # organizations created (al_org, al_org2, al_org3), the owner adding each co-instructor (al_ci_*)
    # and the facilitator (al_f_pub, al_f_draft), the admin hiding r_hidden (al_r_hidden). Reading:
    # admins and service_role (the back office) all; an org admin the rows of their organization; an
    # instructor the rows about what they own (stamped instructor_id: the owner of the course or
    # workshop); co-instructors, facilitators and students none ("an instructor the rows about their
    # own courses": owners). Nobody writes, rewrites or deletes a row, admins included.
    T("audit_log", "id",
      reads(anon=DENY, admin=ALL, service=ALL, org_admin=AUDIT_ORG, other_org_admin={"al_org2"},
            owner=AUDIT_ORG - {"al_org"}),
      nobody("INSERT INTO audit_log (actor_id, action, entity_type, entity_id) "
             "VALUES (%(me)s, 'review.hidden', 'course_review', %(r_pub)s)"),
      nobody("UPDATE audit_log SET reason = 'rewritten' WHERE id = %(al_r_hidden)s"),
      nobody("DELETE FROM audit_log WHERE id = %(al_r_hidden)s")),

    # 011: password reset requests (the throttle's counts), one for S1's address and one for an
    # address no account holds, made by request_password_reset() as portal_signin: no API role
    # reaches the table.
    T("private.password_reset_requests", "id",
      reads(default=DENY),
      nobody("INSERT INTO private.password_reset_requests (email, address) "
             "VALUES ('x@example.test', '192.0.2.9')"),
      nobody("UPDATE private.password_reset_requests SET requested_at = now() - interval '2 days'"),
      nobody("DELETE FROM private.password_reset_requests")),

    # 011: password resets: S1's, made by that request and armed by the worker (a token's hash);
    # no API role reaches the table (the functions granted to portal_signin and portal_worker do).
    T("private.password_resets", "id",
      reads(default=DENY),
      nobody("INSERT INTO private.password_resets (user_id, email) VALUES (%(me)s, 'x@example.test')"),
      nobody("UPDATE private.password_resets SET used_at = NULL, expires_at = 'infinity'"),
      nobody("DELETE FROM private.password_resets")),

    # 015: an instructor's grant of an enrollment (bulk enrollment, an accepted invitation): read by
    # the course's teachers who manage its students, the student it enrolled, and admins. Reading:
    # seeded as the owner on S1's enrollment in the published course (a new enrollment would move
    # every other table's rows); bulk_enroll() and accept_invitation() write it, nobody directly.
    T("course_enrollment_grants", "enrollment_id",
      reads(anon=DENY, owner={"grant_s1_pub"}, co_manage={"grant_s1_pub"}, student={"grant_s1_pub"},
            admin=ALL, service=ALL),
      nobody("INSERT INTO course_enrollment_grants (enrollment_id, course_id, user_id, granted_by, paid_course) "
             "VALUES (%(e_s2_pub)s, %(c_pub)s, %(student2)s, %(me)s, true)"),
      nobody("UPDATE course_enrollment_grants SET granted_by = %(me)s"),
      nobody("DELETE FROM course_enrollment_grants")),

    # 015: invitations, made by the owner's bulk_enroll() on the published course: read by its
    # teachers who manage its students and admins (never the token's hash: EXTRA); written only by
    # bulk_enroll(), the worker (arm_invitation) and accept_invitation().
    T("course_invitations", "id",
      reads(anon=DENY, owner={"inv_pub"}, co_manage={"inv_pub"}, admin=ALL, service=ALL),
      nobody("INSERT INTO course_invitations (course_id, email, invited_by) "
             "VALUES (%(c_pub)s, 'forged@example.test', %(me)s)"),
      nobody("UPDATE course_invitations SET grant_access = true, accepted_at = now()"),
      nobody("DELETE FROM course_invitations")),

    # 015: announcements of the published course, by the owner through post_announcement(): to all
    # its students, to those who completed it, and to those still learning. Read by its teachers who
    # manage its students, admins, and the students the audience names: S1 completed the course
    # (all, completed); S2 waits for payment there (none). Written only through post_announcement().
    T("course_announcements", "id",
      reads(anon=DENY, owner={"an_all", "an_done", "an_active"}, co_manage={"an_all", "an_done", "an_active"},
            student={"an_all", "an_done"}, admin=ALL, service=ALL),
      nobody("INSERT INTO course_announcements (course_id, author_id, title, body) "
             "VALUES (%(c_pub)s, %(me)s, 'Forged', 'Forged')"),
      nobody("UPDATE course_announcements SET recipients = 0, title = 'Changed'"),
      nobody("DELETE FROM course_announcements")),

    # 017: users by role, kept by triggers on users for the admin overview; no API role reaches it
    # (admin_overview, run as the owner, reads it).
    T("private.user_role_counts", "role",
      reads(default=DENY),
      nobody("INSERT INTO private.user_role_counts (role, users) VALUES ('admin', 1)"),
      nobody("UPDATE private.user_role_counts SET users = users + 1"),
      nobody("DELETE FROM private.user_role_counts")),

    # 020: payouts, one scheduled for the owner and one for the other instructor (seeded as the owner
    # of the schema). Reading: a payout is the instructor's whole earnings, so only they and admins
    # (and the back office) read it; co-instructors with view_revenue see their courses' rows, not
    # the owner's payouts; org admins none. Written only by create_payout / mark_payout_paid /
    # cancel_payout (EXTRA), admins included.
    T("payouts", "id",
      reads(anon=DENY, owner={"po_owner"}, other_instructor={"po_i2"}, admin=ALL, service=ALL),
      nobody("INSERT INTO payouts (instructor_id, cutoff, scheduled_for) VALUES (%(me)s, now(), current_date)"),
      nobody("UPDATE payouts SET status = 'paid', paid_at = now() WHERE id = %(po_owner)s"),
      nobody("DELETE FROM payouts WHERE id = %(po_owner)s")),
    # 020: revenue by day and month, kept by a trigger on revenue_transactions: read as the rows are
    # read (the owner; co_revenue their view_revenue course's; org admins; admins), never written by
    # an API role; the back office (service) reads the rows themselves.
    T("revenue_totals", "id",
      reads(anon=DENY, owner=ALL, co_revenue={"rt_pub"}, org_admin=ALL, admin=ALL, service=DENY),
      nobody("INSERT INTO revenue_totals (instructor_id, grain, day, currency, transaction_type) "
             "VALUES (%(owner)s, 'day', current_date, 'USD', 'refund')"),
      nobody("UPDATE revenue_totals SET amount = 0"),
      nobody("DELETE FROM revenue_totals")),
    # 020: the refund window, read by refund_window() only.
    T("private.money_settings", "singleton",
      reads(default=DENY),
      nobody("INSERT INTO private.money_settings (singleton) VALUES (true)"),
      nobody("UPDATE private.money_settings SET refund_window = interval '1 year'"),
      nobody("DELETE FROM private.money_settings")),
]
TABLES = {t.name: t for t in MATRIX}


@dataclass(frozen=True)
class X:
    """One extra case: ``expect`` is OK / ZERO / DENY / another SQLSTATE, or a set of row labels
    of ``table`` that the statement's first column must return exactly."""
    id: str
    actor: str
    table: str
    sql: str
    expect: object
    check: tuple | None = None


EXTRA = [
    # courses: stats are the triggers' (whoever tries), ownership rules of create and delete.
    X("courses-update_enrolled_count-owner", "owner", "courses",
      "UPDATE courses SET enrolled_count = 99999 WHERE id = %(c_pub)s", DENY),
    X("courses-update_average_rating-owner", "owner", "courses",
      "UPDATE courses SET average_rating = 5 WHERE id = %(c_pub)s", DENY),
    X("courses-update_total_revenue-owner", "owner", "courses",
      "UPDATE courses SET total_revenue = 1000000 WHERE id = %(c_pub)s", DENY),
    X("courses-update_review_count-co_edit", "co_edit", "courses",
      "UPDATE courses SET review_count = 500 WHERE id = %(c_pub)s", DENY),
    X("courses-update_enrolled_count-admin", "admin", "courses",
      "UPDATE courses SET enrolled_count = 99999 WHERE id = %(c_pub)s", DENY),
    X("courses-update_draft-co_edit", "co_edit", "courses",
      "UPDATE courses SET title = 'Renamed draft' WHERE id = %(c_draft)s", OK,
      ("SELECT title FROM courses WHERE id = %(c_draft)s", "Renamed draft")),
    X("courses-delete_published-owner", "owner", "courses", "DELETE FROM courses WHERE id = %(c_pub)s", ZERO),
    X("courses-delete_with_enrollments-owner", "owner", "courses",
      "DELETE FROM courses WHERE id = %(c_arch)s", ZERO),
    X("courses-insert_for_another_instructor-other_instructor", "other_instructor", "courses",
      "INSERT INTO courses (title, slug, instructor_id) VALUES ('Forged', 'forged-course', %(owner)s)", DENY),
    X("courses-insert_into_another_org-other_instructor", "other_instructor", "courses",
      "INSERT INTO courses (title, slug, instructor_id, organization_id) "
      "VALUES ('Forged', 'forged-course', %(me)s, %(org)s)", DENY),
    X("courses-insert_into_own_org-owner", "owner", "courses",
      "INSERT INTO courses (title, slug, instructor_id, organization_id) "
      "VALUES ('Org course', 'org-course', %(me)s, %(org)s)", OK,
      ("SELECT count(*) FROM courses WHERE slug = 'org-course'", 1)),
    # 006: a course's revenue is for those who may see its money; its organization is the owner's.
    X("courses-select_total_revenue-anon", "anon", "courses", "SELECT total_revenue FROM courses", DENY),
    X("courses-select_total_revenue-owner", "owner", "courses", "SELECT total_revenue FROM courses", DENY),
    X("courses-course_revenue-co_revenue", "co_revenue", "courses",
      "SELECT id FROM courses WHERE course_revenue(id) IS NOT NULL", {"c_pub"}),
    X("courses-course_revenue-co_edit", "co_edit", "courses",
      "SELECT id FROM courses WHERE course_revenue(id) IS NOT NULL", set()),
    X("courses-course_revenue-student", "student", "courses",
      "SELECT id FROM courses WHERE course_revenue(id) IS NOT NULL", set()),
    X("courses-course_revenue-owner", "owner", "courses",
      "SELECT id FROM courses WHERE course_revenue(id) IS NOT NULL", {"c_pub", "c_draft", "c_arch"}),
    X("courses-course_revenue-org_admin", "org_admin", "courses",
      "SELECT id FROM courses WHERE course_revenue(id) IS NOT NULL", {"c_pub", "c_draft", "c_arch"}),
    X("courses-move_to_own_org-co_edit", "co_edit", "courses",
      "UPDATE courses SET organization_id = NULL WHERE id = %(c_pub)s", DENY),
    X("courses-move_to_no_org-owner", "owner", "courses",
      "UPDATE courses SET organization_id = NULL WHERE id = %(c_pub)s", OK,
      ("SELECT organization_id IS NULL FROM courses WHERE id = %(c_pub)s", True)),
    X("course_outline-select-anon", "anon", "course_lessons", "SELECT lesson_id FROM course_outline",
      {"l_pub1", "l_pub2", "l_pub3", "l_bonus", "l_i2", "l_sa1", "l_sa2"}),

    # instructor_profiles: stats and verification are not the instructor's.
    X("instructor_profiles-update_total_students-owner", "owner", "instructor_profiles",
      "UPDATE instructor_profiles SET total_students = 99999 WHERE user_id = %(owner)s", DENY),
    X("instructor_profiles-update_average_rating-owner", "owner", "instructor_profiles",
      "UPDATE instructor_profiles SET average_rating = 5 WHERE user_id = %(owner)s", DENY),
    X("instructor_profiles-update_is_verified-owner", "owner", "instructor_profiles",
      "UPDATE instructor_profiles SET is_verified = true WHERE user_id = %(owner)s", DENY),
    X("instructor_profiles-update_is_featured-owner", "owner", "instructor_profiles",
      "UPDATE instructor_profiles SET is_featured = true WHERE user_id = %(owner)s", DENY),
    X("instructor_profiles-update_is_verified-admin", "admin", "instructor_profiles",
      "UPDATE instructor_profiles SET is_verified = true WHERE user_id = %(owner)s", OK,
      ("SELECT is_verified FROM instructor_profiles WHERE user_id = %(owner)s", True)),
    X("instructor_profiles-update_total_students-admin", "admin", "instructor_profiles",
      "UPDATE instructor_profiles SET total_students = 99999 WHERE user_id = %(owner)s", DENY),

    # users: name and avatar only; role, organization, active and email are an admin's.
    X("users-update_own_role-student", "student", "users",
      "UPDATE users SET role = 'admin' WHERE id = %(me)s", DENY),
    X("users-update_own_organization-student2", "student2", "users",
      "UPDATE users SET organization_id = %(org)s WHERE id = %(me)s", DENY),
    X("users-update_own_is_active-student", "student", "users",
      "UPDATE users SET is_active = false WHERE id = %(me)s", DENY),
    X("users-update_own_email-student", "student", "users",
      "UPDATE users SET email = 'new-address@example.test' WHERE id = %(me)s", DENY),
    X("users-update_own_avatar-student", "student", "users",
      "UPDATE users SET avatar_url = 'https://img.example.test/me.png' WHERE id = %(me)s", OK,
      ("SELECT avatar_url FROM users WHERE id = %(me)s", "https://img.example.test/me.png")),
    X("users-deactivate-admin", "admin", "users",
      "UPDATE users SET is_active = false WHERE id = %(student2)s", OK,
      ("SELECT is_active FROM account_of(%(student2)s)", False)),
    X("users-deactivate_member-org_admin", "org_admin", "users",
      "UPDATE users SET is_active = false WHERE id = %(student)s", ZERO),

    # organizations: "org admin (name, settings), admin": the column list binds the org admin only.
    X("organizations-update_settings-org_admin", "org_admin", "organizations",
      "UPDATE organizations SET settings = '{\"theme\": \"dark\"}' WHERE id = %(org)s", OK,
      ("SELECT settings ->> 'theme' FROM organizations WHERE id = %(org)s", "dark")),
    X("organizations-update_slug-org_admin", "org_admin", "organizations",
      "UPDATE organizations SET slug = 'renamed-org' WHERE id = %(org)s", DENY),
    X("organizations-update_slug-admin", "admin", "organizations",
      "UPDATE organizations SET slug = 'renamed-org' WHERE id = %(org)s", OK,
      ("SELECT slug::text FROM organizations WHERE id = %(org)s", "renamed-org")),

    # course_enrollments: only enroll_in_course() creates; status moves are few; payment is the
    # payment path's.
    X("course_enrollments-insert_paid_as_enrolled-student2", "student2", "course_enrollments",
      "INSERT INTO course_enrollments (course_id, user_id, status, payment_status, amount_paid) "
      "VALUES (%(c_i2)s, %(me)s, 'enrolled', 'completed', 0)", DENY),
    X("course_enrollments-enroll_function-student2", "student2", "course_enrollments",
      "SELECT enroll_in_course(%(c_i2)s)", OK,
      ("SELECT status::text || '/' || payment_status::text FROM course_enrollments "
       "WHERE course_id = %(c_i2)s AND user_id = %(me)s", "pending/pending")),
    X("course_enrollments-update_own_to_completed-student2", "student2", "course_enrollments",
      "UPDATE course_enrollments SET status = 'completed' WHERE id = %(e_s2_sa)s", DENY),
    X("course_enrollments-update_own_amount_paid-student2", "student2", "course_enrollments",
      "UPDATE course_enrollments SET amount_paid = 0 WHERE id = %(e_s2_pub)s", DENY),
    X("course_enrollments-update_own_payment_status-student2", "student2", "course_enrollments",
      "UPDATE course_enrollments SET payment_status = 'completed' WHERE id = %(e_s2_sa)s", DENY),
    X("course_enrollments-cancel_own-student2", "student2", "course_enrollments",
      "UPDATE course_enrollments SET status = 'cancelled' WHERE id = %(e_s2_sa)s", OK,
      ("SELECT status::text FROM course_enrollments WHERE id = %(e_s2_sa)s", "cancelled")),
    X("course_enrollments-cancel_someone_elses-student", "student", "course_enrollments",
      "UPDATE course_enrollments SET status = 'cancelled' WHERE id = %(e_s2_sa)s", ZERO),
    X("course_enrollments-decline_pending-owner", "owner", "course_enrollments",
      "UPDATE course_enrollments SET status = 'cancelled' WHERE id = %(e_s2_pub)s", OK,
      ("SELECT status::text FROM course_enrollments WHERE id = %(e_s2_pub)s", "cancelled")),
    X("course_enrollments-decline_pending-co_manage", "co_manage", "course_enrollments",
      "UPDATE course_enrollments SET status = 'cancelled' WHERE id = %(e_s2_pub)s", OK,
      ("SELECT status::text FROM course_enrollments WHERE id = %(e_s2_pub)s", "cancelled")),
    X("course_enrollments-mark_completed-owner", "owner", "course_enrollments",
      "UPDATE course_enrollments SET status = 'completed' WHERE id = %(e_s2_pub)s", DENY),
    X("course_enrollments-mark_refunded-owner", "owner", "course_enrollments",
      "UPDATE course_enrollments SET status = 'refunded' WHERE id = %(e_s1_pub)s", DENY),

    # lesson_progress: one's own, on released lessons of an active enrollment, through
    # the progress functions only.
    X("lesson_progress-complete_own_lesson-student2", "student2", "lesson_progress",
      "SELECT complete_lesson(%(l_sa2)s)", OK,
      check=("SELECT status::text FROM lesson_progress WHERE enrollment_id = %(e_s2_sa)s "
             "AND lesson_id = %(l_sa2)s", "completed")),
    X("lesson_progress-complete_for_someone_else-student", "student", "lesson_progress",
      "SELECT complete_lesson(%(l_sa2)s)", DENY),
    X("lesson_progress-complete_unreleased_lesson-student", "student", "lesson_progress",
      "SELECT complete_lesson(%(l_bonus)s)", DENY),
    X("lesson_progress-complete_while_pending-student2", "student2", "lesson_progress",
      "SELECT complete_lesson(%(l_pub2)s)", DENY),

    # 005: checkout is the student's own; payment events are the payment path's.
    X("checkouts-start_for_someone_else-student", "student", "checkouts",
      "SELECT start_checkout(%(e_s2_pub)s, 'test')", DENY),
    X("checkouts-start_when_paid-student2", "student2", "checkouts",
      "SELECT start_checkout(%(e_s2_pub)s, 'test')", "23514"),
    X("payment_events-apply-student2", "student2", "payment_events",
      "SELECT apply_payment_event('evt_forged', %(co_failed)s, 'payment.succeeded')", DENY),
    X("payment_events-apply-owner", "owner", "payment_events",
      "SELECT apply_payment_event('evt_forged', %(co_failed)s, 'payment.succeeded')", DENY),
    # 005: helpful_count is the trigger's; a hidden review takes no vote and no report.
    X("course_reviews-update_helpful_count-student2", "student2", "course_reviews",
      "UPDATE course_reviews SET helpful_count = 99 WHERE id = %(r_pub)s", DENY),
    X("workshop_registrations-attend_unpaid_seat-owner", "owner", "workshop_registrations",
      "UPDATE workshop_registrations SET status = 'attended' WHERE id = %(reg_s2)s", DENY),
    X("review_helpful_votes-vote_hidden-student2", "student2", "review_helpful_votes",
      "INSERT INTO review_helpful_votes (review_id) VALUES (%(r_hidden)s)", DENY),
    X("review_helpful_votes-vote_for_someone_else-student2", "student2", "review_helpful_votes",
      "INSERT INTO review_helpful_votes (review_id, user_id) VALUES (%(r_hidden)s, %(student)s)", DENY),
    X("review_reports-report_hidden-other_instructor", "other_instructor", "review_reports",
      "INSERT INTO review_reports (review_id, reason) VALUES (%(r_hidden)s, 'spam')", DENY),
    X("review_reports-resolve-owner", "owner", "review_reports",
      "UPDATE review_reports SET resolved_at = now() WHERE id = %(rep_s2)s", ZERO),
    # 016: a hidden review stays until a moderator decides (its author deleting and posting
    # again would undo the hide); one under an open report too (the reports would cascade away).
    X("course_reviews-delete_own_hidden-student3", "student3", "course_reviews",
      "DELETE FROM course_reviews WHERE id = %(r_hidden)s", ZERO),
    X("course_reviews-delete_own_reported-student", "student", "course_reviews",
      "DELETE FROM course_reviews WHERE id = %(r_pub)s", ZERO),

    # revenue: payouts through the admin's function only.
    X("revenue_transactions-mark_payouts_paid-admin", "admin", "revenue_transactions",
      "SELECT mark_payouts_paid(ARRAY[%(rev_s1_pub)s]::uuid[])", OK,
      ("SELECT payout_status::text FROM revenue_transactions WHERE id = %(rev_s1_pub)s", "paid")),
    X("revenue_transactions-mark_payouts_paid-owner", "owner", "revenue_transactions",
      "SELECT mark_payouts_paid(ARRAY[%(rev_s1_pub)s]::uuid[])", DENY),
    # 020: payouts and refunds through their functions, each checking its caller.
    X("payouts-create-owner", "owner", "payouts", "SELECT create_payout(%(owner)s)", DENY),
    X("payouts-mark_paid-owner", "owner", "payouts", "SELECT mark_payout_paid(%(po_owner)s)", DENY),
    X("payouts-cancel-owner", "owner", "payouts", "SELECT cancel_payout(%(po_owner)s)", DENY),
    X("payouts-cancel-admin", "admin", "payouts", "SELECT cancel_payout(%(po_owner)s)", OK,
      ("SELECT status::text FROM payouts WHERE id = %(po_owner)s", "cancelled")),
    X("revenue_transactions-admin_refund_sale-owner", "owner", "revenue_transactions",
      "SELECT admin_refund_sale(%(rev_s1_pub)s, 1, 'mine')", DENY),
    X("revenue_transactions-refund_my_sale-co_revenue", "co_revenue", "revenue_transactions",
      "SELECT refund_my_sale(%(rev_s1_pub)s, 'not mine')", "P0002"),
    X("revenue_transactions-refund_my_sale-student", "student", "revenue_transactions",
      "SELECT refund_my_sale(%(rev_s1_pub)s, 'my own purchase')", "P0002"),

    # course_reviews: the author writes the review, instructors the response, admins moderate.
    X("course_reviews-write_response_on_own-student", "student", "course_reviews",
      "UPDATE course_reviews SET instructor_response = 'Thanks, me' WHERE id = %(r_pub)s", DENY),
    X("course_reviews-rewrite_rating-owner", "owner", "course_reviews",
      "UPDATE course_reviews SET rating = 1 WHERE id = %(r_pub)s", DENY),
    X("course_reviews-rewrite_text-co_respond", "co_respond", "course_reviews",
      "UPDATE course_reviews SET review_text = 'Much better than I said' WHERE id = %(r_pub)s", DENY),
    X("course_reviews-respond-owner", "owner", "course_reviews",
      "UPDATE course_reviews SET instructor_response = 'Thank you!' WHERE id = %(r_pub)s", OK,
      ("SELECT instructor_response FROM course_reviews WHERE id = %(r_pub)s", "Thank you!")),
    X("course_reviews-respond-co_respond", "co_respond", "course_reviews",
      "UPDATE course_reviews SET instructor_response = 'Thank you!' WHERE id = %(r_pub)s", OK,
      ("SELECT instructor_response FROM course_reviews WHERE id = %(r_pub)s", "Thank you!")),
    X("course_reviews-respond-co_view", "co_view", "course_reviews",
      "UPDATE course_reviews SET instructor_response = 'Thank you!' WHERE id = %(r_pub)s", ZERO),
    X("course_reviews-respond_hidden-co_respond", "co_respond", "course_reviews",
      "UPDATE course_reviews SET instructor_response = 'Sorry to hear' WHERE id = %(r_hidden)s", OK,
      ("SELECT instructor_response FROM course_reviews WHERE id = %(r_hidden)s", "Sorry to hear")),
    X("course_reviews-insert_without_completion-student2", "student2", "course_reviews",
      "INSERT INTO course_reviews (course_id, user_id, rating) VALUES (%(c_sa)s, %(me)s, 5)", DENY),
    X("course_reviews-insert_while_pending-student2", "student2", "course_reviews",
      "INSERT INTO course_reviews (course_id, user_id, rating) VALUES (%(c_pub)s, %(me)s, 5)", DENY),
    # Reading: "once per course" is a uniqueness rule: a second review is a conflict (HTTP 409).
    X("course_reviews-insert_second-student", "student", "course_reviews",
      "INSERT INTO course_reviews (course_id, user_id, rating) VALUES (%(c_pub)s, %(me)s, 1)", "23505"),
    X("course_reviews-insert_unverified-student", "student", "course_reviews",
      "INSERT INTO course_reviews (course_id, user_id, rating, is_verified_purchase) "
      "VALUES (%(c_arch)s, %(me)s, 4, false)", DENY),
    X("course_reviews-update_helpful_count-student", "student", "course_reviews",
      "UPDATE course_reviews SET helpful_count = 1000 WHERE id = %(r_pub)s", DENY),
    X("course_reviews-hide-admin", "admin", "course_reviews",
      "UPDATE course_reviews SET is_visible = false, moderation_reason = 'Spam' WHERE id = %(r_pub)s", OK,
      ("SELECT is_visible FROM course_reviews WHERE id = %(r_pub)s", False)),
    X("course_reviews-hide-owner", "owner", "course_reviews",
      "UPDATE course_reviews SET is_visible = false WHERE id = %(r_pub)s", DENY),
    # 016: moderation is the platform admin's: the author, a co-instructor who answers reviews, an org
    # admin and another student cannot hide, re-word or resolve.
    X("course_reviews-hide_own-student", "student", "course_reviews",
      "UPDATE course_reviews SET is_visible = false, moderation_reason = 'Mine' WHERE id = %(r_pub)s", DENY),
    X("course_reviews-hide-co_respond", "co_respond", "course_reviews",
      "UPDATE course_reviews SET is_visible = false, moderation_reason = 'x' WHERE id = %(r_pub)s", DENY),
    X("course_reviews-reason-owner", "owner", "course_reviews",
      "UPDATE course_reviews SET moderation_reason = 'Forged' WHERE id = %(r_hidden)s", DENY),
    X("course_reviews-restore-owner", "owner", "course_reviews",
      "UPDATE course_reviews SET is_visible = true WHERE id = %(r_hidden)s", DENY),
    X("course_reviews-hide-org_admin", "org_admin", "course_reviews",
      "UPDATE course_reviews SET is_visible = false WHERE id = %(r_pub)s", ZERO),
    X("course_reviews-hide-student2", "student2", "course_reviews",
      "UPDATE course_reviews SET is_visible = false WHERE id = %(r_pub)s", ZERO),
    X("review_reports-resolve_own-student2", "student2", "review_reports",
      "UPDATE review_reports SET resolved_at = now() WHERE id = %(rep_s2)s", ZERO),
    X("review_reports-resolve-admin", "admin", "review_reports",
      "UPDATE review_reports SET resolved_at = now() WHERE id = %(rep_s2)s", OK,
      ("SELECT resolved_by = %(me)s FROM review_reports WHERE id = %(rep_s2)s", True)),
    # 016: the audit log. An org admin reads no other organization's rows, asked for by scope or id; a
    # co-instructor none of the course's; nobody forges an actor (no INSERT grant, identity or not),
    # empties or rewrites it, admins and service_role included.
    X("audit_log-other_org-org_admin", "org_admin", "audit_log",
      "SELECT id FROM audit_log WHERE organization_id = %(org2)s OR id = %(al_org2)s", set()),
    X("audit_log-other_org-other_org_admin", "other_org_admin", "audit_log",
      "SELECT id FROM audit_log WHERE organization_id = %(org)s OR course_id = %(c_pub)s", set()),
    X("audit_log-course_rows-co_respond", "co_respond", "audit_log",
      "SELECT id FROM audit_log WHERE course_id = %(c_pub)s", set()),
    X("audit_log-course_rows-student", "student", "audit_log",
      "SELECT id FROM audit_log WHERE entity_id = %(r_pub)s OR organization_id = %(org)s", set()),
    X("audit_log-forge_actor-admin", "admin", "audit_log",
      "INSERT INTO audit_log (actor_id, action, entity_type, entity_id, reason) OVERRIDING SYSTEM VALUE "
      "VALUES (%(student)s, 'user.role_changed', 'user', %(student)s, 'forged')", DENY),
    X("audit_log-truncate-admin", "admin", "audit_log", "TRUNCATE audit_log", DENY),
    X("audit_log-truncate-service", "service", "audit_log", "TRUNCATE audit_log", DENY),
    X("audit_log-rewrite_after-admin", "admin", "audit_log",
      "UPDATE audit_log SET after = '{}', actor_id = NULL WHERE id = %(al_r_hidden)s", DENY),
    X("audit_log-delete_all-service", "service", "audit_log", "DELETE FROM audit_log", DENY),

    X("workshop_feedback-insert_attendee-student3", "student3", "workshop_feedback",
      "INSERT INTO workshop_feedback (workshop_id, user_id, overall_satisfaction) VALUES (%(w_pub)s, %(me)s, 5)",
      OK, ("SELECT count(*) FROM workshop_feedback WHERE user_id = %(me)s", 1)),

    # workshop_registrations: the student cancels, staff mark attendance, payment is not theirs.
    X("workshop_registrations-cancel_own-student2", "student2", "workshop_registrations",
      "UPDATE workshop_registrations SET status = 'cancelled' WHERE id = %(reg_s2)s", OK,
      ("SELECT status::text FROM workshop_registrations WHERE id = %(reg_s2)s", "cancelled")),
    X("workshop_registrations-cancel_someone_elses-student", "student", "workshop_registrations",
      "UPDATE workshop_registrations SET status = 'cancelled' WHERE id = %(reg_s2)s", ZERO),
    X("workshop_registrations-cancel-owner", "owner", "workshop_registrations",
      "UPDATE workshop_registrations SET status = 'cancelled' WHERE id = %(reg_s2)s", DENY),
    X("workshop_registrations-update_own_payment_status-student2", "student2", "workshop_registrations",
      "UPDATE workshop_registrations SET payment_status = 'completed' WHERE id = %(reg_s2)s", DENY),

    X("workshops-update_enrolled_count-owner", "owner", "workshops",
      "UPDATE workshops SET enrolled_count = 99999 WHERE id = %(w_pub)s", DENY),
    X("workshops-update_total_revenue-facilitator", "facilitator", "workshops",
      "UPDATE workshops SET total_revenue = 1000000 WHERE id = %(w_pub)s", DENY),
    X("workshops-delete_published-owner", "owner", "workshops", "DELETE FROM workshops WHERE id = %(w_pub)s", ZERO),

    # course_instructors: the public may read names and roles of a published course's
    # co-instructors, not their permissions.
    # (The effect check reads updated_at, not permissions: see the two cases below.)
    X("course_instructors-grant_permissions-owner", "owner", "course_instructors",
      f"UPDATE course_instructors SET permissions = '{ALL_PERMISSIONS}' WHERE id = %(ci_none)s", OK,
      ("SELECT updated_at = now() FROM course_instructors WHERE id = %(ci_none)s", True)),
    X("course_instructors-grant_self_permissions-co_none", "co_none", "course_instructors",
      f"UPDATE course_instructors SET permissions = '{ALL_PERMISSIONS}' WHERE id = %(ci_none)s", ZERO),
    X("course_instructors-select_permissions-anon", "anon", "course_instructors",
      "SELECT permissions FROM course_instructors WHERE course_id = %(c_pub)s", DENY),
    X("course_instructors-select_permissions-student", "student", "course_instructors",
      "SELECT permissions FROM course_instructors WHERE course_id = %(c_pub)s", set()),

    # 010: notices. Only read_at is the recipient's to write; what was said, to whom, and its email's
    # state are the database's. The delivery columns are not even readable.
    X("notifications-update_payload-student", "student", "notifications",
      "UPDATE notifications SET payload = '{\"course_title\": \"Forged\"}' WHERE id = %(nt_student)s", DENY),
    X("notifications-update_email_state-student", "student", "notifications",
      "UPDATE notifications SET email_state = 'sent', email_sent_at = now() WHERE id = %(nt_student)s", DENY),
    X("notifications-give_away-student", "student", "notifications",
      "UPDATE notifications SET user_id = %(student2)s WHERE id = %(nt_student)s", DENY),
    X("notifications-mark_read_with_another_column-student", "student", "notifications",
      "UPDATE notifications SET read_at = now(), in_portal = false WHERE id = %(nt_student)s", DENY),
    X("notifications-mark_read_someone_elses-student2", "student2", "notifications",
      "UPDATE notifications SET read_at = now() WHERE id = %(nt_student)s", ZERO),
    X("notifications-mark_read_someone_elses-admin", "admin", "notifications",
      "UPDATE notifications SET read_at = now() WHERE id = %(nt_student)s", ZERO),
    X("notifications-select_dedup_key-student", "student", "notifications",
      "SELECT dedup_key FROM notifications", DENY),
    X("notifications-select_email_error-student", "student", "notifications",
      "SELECT email_error FROM notifications", DENY),
    X("notifications-select_someone_elses-admin", "admin", "notifications",
      "SELECT id FROM notifications WHERE user_id = %(student)s", set()),
    # 010: preferences. A row is created for oneself only (an upsert included), never moved to another.
    X("notification_settings-insert_for_someone_else-student3", "student3", "notification_settings",
      "INSERT INTO notification_settings (user_id) VALUES (%(student)s)", DENY),
    X("notification_settings-upsert_someone_elses-student3", "student3", "notification_settings",
      "INSERT INTO notification_settings (user_id) VALUES (%(student)s) "
      "ON CONFLICT (user_id) DO UPDATE SET email_notifications = '{}'", DENY),
    X("notification_settings-move_own_row-student", "student", "notification_settings",
      "UPDATE notification_settings SET user_id = %(student3)s WHERE user_id = %(me)s", DENY),
    X("notification_settings-update_someone_elses-student2", "student2", "notification_settings",
      "UPDATE notification_settings SET email_notifications = '{}' WHERE user_id = %(student)s", ZERO),
    # 011: one's sessions and email changes are read without their user_id; nobody revives an
    # ended session, confirms a change or moves either to another person directly.
    X("user_sessions-select_user_id-student", "student", "user_sessions", "SELECT user_id FROM user_sessions", DENY),
    # 015: an invitation's token hash is read by no API role (only accept_invitation() compares it).
    X("course_invitations-select_token_hash-owner", "owner", "course_invitations",
      "SELECT token_hash FROM course_invitations", DENY),
    X("course_invitations-select_token_hash-admin", "admin", "course_invitations",
      "SELECT token_hash FROM course_invitations", DENY),
    X("user_sessions-select_someone_elses-admin", "admin", "user_sessions",
      "SELECT id FROM user_sessions WHERE id = %(us_student)s", set()),
    X("user_sessions-revive_own-student", "student", "user_sessions",
      "UPDATE user_sessions SET revoked_at = NULL WHERE id = %(us_student_ended)s", DENY),
    X("user_sessions-end_own_directly-student", "student", "user_sessions",
      "UPDATE user_sessions SET revoked_at = now() WHERE id = %(us_student)s", DENY),
    X("user_sessions-give_away-student", "student", "user_sessions",
      "UPDATE user_sessions SET user_id = %(student2)s WHERE id = %(us_student)s", DENY),
    X("email_changes-select_user_id-student2", "student2", "email_changes", "SELECT user_id FROM email_changes",
      DENY),
    X("email_changes-confirm_own_directly-student2", "student2", "email_changes",
      "UPDATE email_changes SET confirmed_at = now() WHERE id = %(ec_student2)s", DENY),
    X("email_changes-extend_own-student2", "student2", "email_changes",
      "UPDATE email_changes SET expires_at = 'infinity' WHERE id = %(ec_student2)s", DENY),
    X("email_changes-select_someone_elses-admin", "admin", "email_changes",
      "SELECT id FROM email_changes WHERE id = %(ec_student2)s", set()),
    # 014: notes. The author is the caller, the student one of theirs, the course one the student is in.
    X("instructor_student_notes-forge_author-co_manage", "co_manage", "instructor_student_notes",
      "INSERT INTO instructor_student_notes (instructor_id, student_id, course_id, body) "
      "VALUES (%(owner)s, %(student)s, %(c_pub)s, 'Forged')", DENY),
    X("instructor_student_notes-about_someone_elses_student-owner", "owner", "instructor_student_notes",
      "INSERT INTO instructor_student_notes (instructor_id, student_id, body) VALUES (%(me)s, %(student2)s, 'x') "
      "RETURNING id", OK),  # S2 is pending on c_pub: one of the owner's students all the same
    X("instructor_student_notes-other_instructor_on_shared_student", "standalone", "instructor_student_notes",
      "INSERT INTO instructor_student_notes (instructor_id, student_id, course_id, body) "
      "VALUES (%(me)s, %(student2)s, %(c_pub)s, 'Not my course')", DENY),
    X("instructor_student_notes-read_shared_students_notes-standalone", "standalone", "instructor_student_notes",
      "SELECT id FROM instructor_student_notes WHERE student_id = %(student2)s", {"note_standalone"}),
    X("instructor_student_notes-edit_co_note-owner", "owner", "instructor_student_notes",
      "UPDATE instructor_student_notes SET body = 'Owner edits' WHERE id = %(note_co)s", ZERO),
    X("instructor_student_notes-move_to_another_student-owner", "owner", "instructor_student_notes",
      "UPDATE instructor_student_notes SET student_id = %(student3)s WHERE id = %(note_owner)s", DENY),
    X("instructor_student_notes-give_to_co-owner", "owner", "instructor_student_notes",
      "UPDATE instructor_student_notes SET instructor_id = %(co_manage)s WHERE id = %(note_owner)s", DENY),
    X("instructor_student_notes-student_reads_about_themself", "student", "instructor_student_notes",
      "SELECT id FROM instructor_student_notes WHERE student_id = %(me)s", set()),
    X("instructor_student_notes-student_writes_about_themself", "student", "instructor_student_notes",
      "INSERT INTO instructor_student_notes (instructor_id, student_id, body) VALUES (%(owner)s, %(me)s, 'x')",
      DENY),
    # Notes follow the teaching: co_view wrote note_former while it managed c_pub's students, and no more.
    X("instructor_student_notes-former_manager_reads_own_note-co_view", "co_view", "instructor_student_notes",
      "SELECT id FROM instructor_student_notes WHERE instructor_id = %(me)s", set()),
    X("instructor_student_notes-former_manager_edits_own_note-co_view", "co_view", "instructor_student_notes",
      "UPDATE instructor_student_notes SET body = 'Still mine?' WHERE id = %(note_former)s", ZERO),
    X("instructor_student_notes-former_manager_deletes_own_note-co_view", "co_view", "instructor_student_notes",
      "DELETE FROM instructor_student_notes WHERE id = %(note_former)s", ZERO),
    X("instructor_student_notes-co_view_writes", "co_view", "instructor_student_notes",
      "INSERT INTO instructor_student_notes (instructor_id, student_id, course_id, body) "
      "VALUES (%(me)s, %(student)s, %(c_pub)s, 'Only a reader')", DENY),
    X("notification_settings-insert_own-student3", "student3", "notification_settings",
      "INSERT INTO notification_settings (user_id, email_notifications) "
      "VALUES (%(me)s, '{\"certificate_issued\": false}')", OK,
      ("SELECT email_notifications ->> 'certificate_issued' FROM notification_settings "
       "WHERE user_id = %(me)s", "false")),
]


# --- the dataset ---------------------------------------------------------------------

@dataclass(repr=False)
class World:
    db: object
    ids: dict            # table -> label -> set of keys
    uid: dict            # actor -> user id (None for anon and service)
    baseline: dict = field(default_factory=dict)

    def __repr__(self):
        return "World(seeded)"

    def actor(self, name):
        if name == "anon":
            return Actor.anon()
        if name == "service":
            return Actor.service()
        return Actor.user(self.uid[name], name)

    def params(self, actor):
        if "_single" not in self.__dict__:
            self._single = {label: next(iter(keys)) for labels in self.ids.values()
                            for label, keys in labels.items() if len(keys) == 1}
        return {**self._single, "me": self.uid.get(actor)}

    def keys(self, table, labels):
        if labels == ALL:
            return set().union(*self.ids[table].values())
        missing = set(labels) - set(self.ids[table])
        assert not missing, f"unknown labels for {table}: {missing}"
        return set().union(*(self.ids[table][label] for label in labels))

    def labels(self, table, keys):
        """Labels of ``keys``; a group label shows how many of its rows are in: act_pub_s1[3/10]."""
        shown = []
        for label, group in sorted(self.ids[table].items()):
            n = len(group & keys)
            if n:
                shown.append(label if n == len(group) else f"{label}[{n}/{len(group)}]")
        known = set().union(*self.ids[table].values())
        return shown + [f"unlabelled:{key}" for key in keys - known]

    def fingerprint(self, table):
        return self.db.value(f"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) "
                             f"FROM {table} t")


def _as(db, actor, sql, params):
    with db.act(actor) as cur:
        cur.execute(sql, params)
        return next(iter(cur.fetchone().values())) if cur.description else None


def seed(db) -> World:
    """One realistic world, built as the owner with the factories and through the real paths."""
    org, org2, org3 = gen_org(db, "Acme Learning"), gen_org(db, "Globex Academy"), gen_org(db, "Empty Org")
    u = {
        "admin": gen_user(db, "admin", name="Platform Admin"),
        "org_admin": gen_user(db, "org_admin", org=org, name="Acme Admin"),
        "other_org_admin": gen_user(db, "org_admin", org=org2, name="Globex Admin"),
        "owner": gen_user(db, "instructor", org=org, name="Olivia Owner"),
        "other_instructor": gen_user(db, "instructor", org=org2, name="Gus Globex"),
        "standalone": gen_user(db, "instructor", name="Sam Solo"),
        "student": gen_user(db, "student", org=org, name="Stu One"),
        "student2": gen_user(db, "student", name="Stu Two"),
        "student3": gen_user(db, "student", name="Stu Three"),
        "facilitator": gen_user(db, "instructor", name="Fay Facilitator"),
    }
    for co in CO:
        u[co] = gen_user(db, "instructor", name=co.replace("_", " ").title())
    s1, s3, own = (Actor.user(u[k]) for k in ("student", "student3", "owner"))

    # Courses: the org's published (paid) course, a draft, one to be archived; another
    # organization's paid course; a standalone instructor's free course.
    c_pub = gen_course(db, u["owner"], price="49.99", org=org, lessons=(), title="Prompting at Work")
    gen_lesson(db, c_pub, c_pub.modules[0], "text", preview=True)
    gen_lesson(db, c_pub, c_pub.modules[0], "video")
    gen_lesson(db, c_pub, c_pub.modules[0], "quiz")
    c_draft = gen_course(db, u["owner"], status="draft", org=org, lessons=(), title="Next Season")
    gen_lesson(db, c_draft, c_draft.modules[0], "text", preview=True)
    c_arch = gen_course(db, u["owner"], org=org, lessons=("text",), title="Retired Basics")
    c_i2 = gen_course(db, u["other_instructor"], price="19.00", org=org2, lessons=(), title="Globex 101")
    gen_lesson(db, c_i2, c_i2.modules[0], "text", preview=True)
    c_sa = gen_course(db, u["standalone"], lessons=("text", "text"), title="Solo Coaching")

    # Co-instructors, each with exactly one permission (co_none: none), added by the owner
    # through the API.
    ci = {}
    for co, perm in CO.items():
        perms = json.dumps({p: p == perm for p in PERMISSIONS})
        for course, suffix in [(c_pub, "")] + ([(c_draft, "_draft")] if co in ("co_view", "co_edit") else []):
            ci["ci" + co[2:] + suffix] = _as(
                db, own, "INSERT INTO course_instructors (course_id, instructor_id, permissions) "
                         "VALUES (%s, %s, %s) RETURNING id", (course.id, u[co], perms))

    # Enrollments, progress, revenue and reviews, through the real paths. c_pub issues
    # certificates.
    db.value("UPDATE courses SET certificate_enabled = true WHERE id = %s RETURNING id", (c_pub.id,))
    e = {"e_s1_pub": complete_course(db, u["student"], c_pub),
         "e_s3_pub": complete_course(db, u["student3"], c_pub),
         "e_s1_arch": complete_course(db, u["student"], c_arch)}
    review = "INSERT INTO course_reviews (course_id, user_id, rating, title, review_text) " \
             "VALUES (%s, %s, %s, %s, %s) RETURNING id"
    r_pub = _as(db, s1, review, (c_pub.id, u["student"], 5, "Great", "Clear and practical."))
    r_hidden = _as(db, s3, review, (c_pub.id, u["student3"], 2, "Meh", "Buy my course instead!"))
    _as(db, Actor.user(u["admin"]), "UPDATE course_reviews SET is_visible = false, "
        "moderation_reason = 'Advertising' WHERE id = %s", (r_hidden,))
    _as(db, own, "UPDATE courses SET status = 'archived' WHERE id = %s", (c_arch.id,))
    _as(db, own, "UPDATE instructor_settings SET auto_approve_enrollments = false WHERE user_id = %s",
        (u["owner"],))
    # S2: pending on c_pub, paid through checkout (declined once, then paid), awaiting approval.
    e["e_s2_pub"] = enroll(db, u["student2"], c_pub.id)
    s2, service = Actor.user(u["student2"]), Actor.service()
    checkout = "SELECT start_checkout(%s, 'test')"
    co_failed = _as(db, s2, checkout, (e["e_s2_pub"],))
    _as(db, service, "SELECT apply_payment_event('evt_declined', %s, 'payment.failed', 'Card declined')",
        (co_failed,))
    co_paid = _as(db, s2, checkout, (e["e_s2_pub"],))
    _as(db, service, "SELECT apply_payment_event('evt_paid', %s, 'payment.succeeded')", (co_paid,))
    # Helpful votes and a report on S1's review.
    _as(db, s2, "INSERT INTO review_helpful_votes (review_id) VALUES (%s)", (r_pub,))
    _as(db, s3, "INSERT INTO review_helpful_votes (review_id) VALUES (%s)", (r_pub,))
    rep_s2 = _as(db, s2, "INSERT INTO review_reports (review_id, reason) VALUES (%s, 'spam') RETURNING id",
                 (r_pub,))
    e["e_s2_sa"] = enroll(db, u["student2"], c_sa.id)
    record_lesson(db, u["student2"], e["e_s2_sa"], c_sa, c_sa.lessons[0])
    # A bonus module released 30 days after enrollment.
    m_bonus = gen_module(db, c_pub, "Bonus")
    gen_lesson(db, c_pub, m_bonus, "text")
    _as(db, own, "UPDATE courses SET drip_content = true, drip_schedule = jsonb_build_object(%s::text, 30) "
                 "WHERE id = %s", (str(m_bonus), c_pub.id))
    # S3 may open the bonus module early (004's per-student unlock).
    du_s3_pub = _as(db, own, "INSERT INTO drip_unlocks (enrollment_id, user_id, course_id, module_id) "
                             "VALUES (%s, %s, %s, %s) RETURNING id", (e["e_s3_pub"], u["student3"], c_pub.id, m_bonus))

    # Workshops: the org's published paid one (facilitated), a draft, one already held.
    w_pub = gen_workshop(db, u["owner"], price="25.00", org=org, title="Live Prompt Clinic")
    w_draft = gen_workshop(db, u["owner"], status="draft", org=org, title="Future Clinic")
    w_done = gen_workshop(db, u["owner"], org=org, title="Last Month's Clinic")
    f = {label: _as(db, own, "INSERT INTO workshop_facilitators (workshop_id, facilitator_id) "
                             "VALUES (%s, %s) RETURNING id", (w, u["facilitator"]))
         for label, w in (("f_pub", w_pub), ("f_draft", w_draft))}
    reg = {"reg_s1": register(db, u["student"], w_pub), "reg_s3": register(db, u["student3"], w_pub),
           "reg_s2": register(db, u["student2"], w_pub), "reg_s2_done": register(db, u["student2"], w_done)}
    for label in ("reg_s1", "reg_s3"):
        # paid (as maintenance: the matrix's checkouts and payment events stay the course's)
        db.rows("SELECT confirm_workshop_payment(%s)", (reg[label],))
    # 021: attendance once a workshop has started, feedback once it has ended: the clinic has been
    # held (its times moved as maintenance would), and is not yet marked completed.
    db.rows("UPDATE workshops SET start_time = now() - interval '3 hours', end_time = now() - interval '1 hour', "
            "certificate_enabled = true WHERE id = %s", (w_pub,))
    _as(db, own, "UPDATE workshop_registrations SET status = 'attended' WHERE id = %s", (reg["reg_s1"],))
    _as(db, Actor.user(u["facilitator"]), "UPDATE workshop_registrations SET status = 'attended' "
        "WHERE id = %s", (reg["reg_s3"],))
    fb_s1 = _as(db, s1, "INSERT INTO workshop_feedback (workshop_id, user_id, overall_satisfaction, "
                        "what_went_well, nps_score, would_recommend) VALUES (%s, %s, 5, 'Hands-on', 9, true) "
                        "RETURNING id", (w_pub, u["student"]))
    # (held last month: its times moved as maintenance would, 021 refuses staff moving a published
    # workshop with registrants into the past; then its owner completes it)
    db.rows("UPDATE workshops SET start_time = now() - interval '30 days', "
            "end_time = now() - interval '30 days' + interval '2 hours' WHERE id = %s", (w_done,))
    _as(db, own, "UPDATE workshops SET status = 'completed' WHERE id = %s", (w_done,))

    # Private tables: a password hash, and one activity row archived by maintenance.
    db.rows("INSERT INTO private.user_credentials (user_id, password_hash) VALUES (%s, %s)",
            (u["student"], "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"))
    db.rows("UPDATE student_activity SET occurred_at = now() - interval '2 years' "
            "WHERE student_id = %s AND course_id = %s AND activity_type = 'enrolled'", (u["student2"], c_sa.id))
    assert db.value("SELECT archive_student_activity()") == 1

    # 010: S1 and S2 save their preferences through the API; everyone gets a workshop reminder as the
    # scheduled work writes one (on top of the notices the acts above caused); one delivery failed.
    ns = {f"ns_{k}": _as(db, Actor.user(u[k]), "INSERT INTO notification_settings (user_id, email_notifications) "
                                              "VALUES (%s, '{\"new_review\": false}') RETURNING user_id", (u[k],))
          for k in ("student", "student2")}
    reminder = {k: db.value("SELECT private.notify(%s, 'workshop_reminder', '{\"title\": \"Matrix Clinic\"}', "
                            "'matrix')", (uid,)) for k, uid in u.items()}
    assert all(reminder.values()), "everyone has a reminder of their own"
    # S1 and the course owner marked all their notices read (the one way: mark_all_notifications_read()).
    marks = {f"rm_{k}": (_as(db, Actor.user(u[k]), "SELECT mark_all_notifications_read()", None), u[k])[1]
             for k in ("student", "owner")}
    job = db.value("SELECT min(id) FROM procrastinate.procrastinate_jobs")
    db.rows("SELECT private.record_job_error(%s, 1, 'SMTP refused the message')", (job,))

    # 011: sessions, email changes and a password reset, each made by its function as its actor.
    sessions = {f"us_{k}": _as(db, Actor.user(u[k]), "SELECT start_session('Matrix browser', '192.0.2.10')", None)
                for k in ("student", "student2", "owner")}
    sessions["us_student_ended"] = _as(db, s1, "SELECT start_session('Old browser', '192.0.2.11')", None)
    assert _as(db, s1, "SELECT end_sessions(%s, NULL)", (sessions["us_student_ended"],)) == 1
    # (asked for as portal_signin, as the app does once it checked the person's password)
    changes = {"ec_student": _as(db, Actor.sign_in(), "SELECT request_email_change(%s, 'stu.one.new@example.test')",
                                 (u["student"],)),
               "ec_student2": _as(db, Actor.sign_in(), "SELECT request_email_change(%s, 'stu.two.new@example.test')",
                                  (u["student2"],))}
    assert _as(db, s1, "SELECT cancel_email_change()", None) == 1
    s1_email = db.value("SELECT email::text FROM users WHERE id = %s", (u["student"],))
    for email in (s1_email, "nobody-here@example.test"):
        assert _as(db, Actor.sign_in(), "SELECT request_password_reset(%s, '192.0.2.12', 5, 20, interval '1 hour')",
                   (email,)) is True
    reset = db.value("SELECT id FROM private.password_resets")
    assert _as(db, Actor("portal_worker", None, "portal_worker"),
               "SELECT private.arm_password_reset(%s, sha256('matrix-token'), interval '1 hour')", (reset,)) is True

    # 014: notes, each written by its author through the API.
    note = "INSERT INTO instructor_student_notes (instructor_id, student_id, course_id, body) " \
           "VALUES (%s, %s, %s, %s) RETURNING id"
    notes = {"note_owner": _as(db, own, note, (u["owner"], u["student"], c_pub.id, "Needs a nudge")),
             "note_co": _as(db, Actor.user(u["co_manage"]), note, (u["co_manage"], u["student"], c_pub.id, "Asked")),
             "note_standalone": _as(db, Actor.user(u["standalone"]), note,
                                    (u["standalone"], u["student2"], c_sa.id, "Solo's note"))}
    # 022: a comment and its reply, a question, its answer and S3's report on it.
    talk = {"cm_s1": _as(db, s1, "INSERT INTO lesson_comments (course_id, lesson_id, body) VALUES (%s, %s, 'Nice') "
                                 "RETURNING id", (c_pub.id, c_pub.lessons[0]))}
    talk["cm_owner"] = _as(db, own, "INSERT INTO lesson_comments (course_id, lesson_id, parent_id, body) "
                                    "VALUES (%s, %s, %s, 'Thanks') RETURNING id",
                           (c_pub.id, c_pub.lessons[0], talk["cm_s1"]))
    talk["q_s1"] = _as(db, s1, "INSERT INTO course_questions (course_id, title) VALUES (%s, 'Where to start?') "
                               "RETURNING id", (c_pub.id,))
    talk["qa_owner"] = _as(db, own, "INSERT INTO question_answers (question_id, course_id, body) "
                                    "VALUES (%s, %s, 'Lesson one') RETURNING id", (talk["q_s1"], c_pub.id))
    talk["dr_s3"] = _as(db, s3, "INSERT INTO discussion_reports (question_id, reason) VALUES (%s, 'spam') "
                                "RETURNING id", (talk["q_s1"],))
    # 015: an invitation and three announcements, as the owner through the functions; a grant on
    # S1's enrollment (see the matrix's entry).
    invitation = _as(db, own, "SELECT count(*) FROM bulk_enroll(%s, ARRAY['not-yet-here@example.test'], true, NULL)",
                     (c_pub.id,))
    assert invitation == 1
    announcements = {f"an_{label}": _as(db, own, "SELECT post_announcement(%s, %s, 'Body', %s)",
                                       (c_pub.id, f"To {audience}", audience))
                     for label, audience in (("all", "all"), ("done", "completed"), ("active", "active"))}
    db.rows("INSERT INTO course_enrollment_grants (enrollment_id, course_id, user_id, granted_by, paid_course) "
            "VALUES (%s, %s, %s, %s, true) RETURNING 1", (e["e_s1_pub"], c_pub.id, u["student"], u["owner"]))
    # note_former: co_view's, written while they also managed c_pub's students; notes follow the
    # teaching, so with manage_students withdrawn (as it is again) co_view neither reads nor touches it.
    ci_view_perms = db.value("SELECT permissions FROM course_instructors WHERE id = %s", (ci["ci_view"],))
    db.value("UPDATE course_instructors SET permissions = permissions || '{\"manage_students\": true}' "
             "WHERE id = %s RETURNING id", (ci["ci_view"],))
    notes["note_former"] = _as(db, Actor.user(u["co_view"]), note,
                               (u["co_view"], u["student"], c_pub.id, "While I managed"))
    db.value("UPDATE course_instructors SET permissions = %s WHERE id = %s RETURNING id",
             (json.dumps(ci_view_perms), ci["ci_view"]))

    # 020: a scheduled payout each for the owner and the other instructor.
    po = {label: db.value("INSERT INTO payouts (instructor_id, cutoff, scheduled_for) "
                          "VALUES (%s, now(), current_date) RETURNING id", (u[who],))
          for label, who in (("po_owner", "owner"), ("po_i2", "other_instructor"))}

    # Labels.
    one = lambda mapping: {label: {key} for label, key in mapping.items()}  # noqa: E731
    instructors = {k: u[k] for k in INSTRUCTORS}
    courses = {"c_pub": c_pub, "c_draft": c_draft, "c_arch": c_arch, "c_i2": c_i2, "c_sa": c_sa}
    ids = {
        "organizations": one({"org": org, "org2": org2, "org3": org3}),
        "users": one(u),
        "instructor_profiles": one(instructors),
        "instructor_settings": one(instructors),
        "courses": one({k: c.id for k, c in courses.items()}),
        "course_modules": one({"m_pub": c_pub.modules[0], "m_bonus": m_bonus, "m_draft": c_draft.modules[0],
                               "m_arch": c_arch.modules[0], "m_i2": c_i2.modules[0], "m_sa": c_sa.modules[0]}),
        "course_lessons": one({"l_pub1": c_pub.lessons[0], "l_pub2": c_pub.lessons[1], "l_pub3": c_pub.lessons[2],
                               "l_bonus": c_pub.lessons[3], "l_draft": c_draft.lessons[0],
                               "l_arch": c_arch.lessons[0], "l_i2": c_i2.lessons[0],
                               "l_sa1": c_sa.lessons[0], "l_sa2": c_sa.lessons[1]}),
        "course_enrollments": one(e),
        "course_reviews": one({"r_pub": r_pub, "r_hidden": r_hidden}),
        "workshop_feedback": one({"fb_s1": fb_s1}),
        "course_instructors": one(ci),
        "workshops": one({"w_pub": w_pub, "w_draft": w_draft, "w_done": w_done}),
        "workshop_registrations": one(reg),
        "workshop_facilitators": one(f),
        "workshop_certificates": one({f"wcert_{by}": db.value(
            "SELECT id FROM workshop_certificates WHERE registration_id = %s", (reg[f"reg_{by}"],))
            for by in ("s1", "s3")}),
        "private.user_credentials": one({"cred_s1": u["student"]}),
        "drip_unlocks": one({"du_s3_pub": du_s3_pub}),
        "checkouts": one({"co_failed": co_failed, "co_paid": co_paid}),
        "payment_events": one({"ev_declined": "evt_declined", "ev_paid": "evt_paid"}),
        "certificates": one({f"cert_{by}": db.value("SELECT id FROM certificates WHERE enrollment_id = %s",
                                                    (e[f"e_{by}"],)) for by in ("s1_pub", "s3_pub")}),
        "review_helpful_votes": one({"hv_s2": u["student2"], "hv_s3": u["student3"]}),
        "review_reports": one({"rep_s2": rep_s2}),
        "notification_events": {f"ne_{r['event_type']}": {r["event_type"]}
                                for r in db.rows("SELECT event_type FROM notification_events")},
        "notification_settings": one(ns),
        "notification_read_marks": one(marks),
        "private.job_errors": one({"jerr_1": job}),
        "user_sessions": one(sessions),
        "email_changes": one(changes),
        "private.password_reset_requests": {
            f"prr_{'known' if r['email'] == s1_email else 'unknown'}": {r["id"]}
            for r in db.rows("SELECT id, email::text AS email FROM private.password_reset_requests")},
        "private.password_resets": one({"pr_student": reset}),
        "instructor_student_notes": one(notes),
        "lesson_comments": one({k: v for k, v in talk.items() if k.startswith("cm_")}),
        "course_questions": one({"q_s1": talk["q_s1"]}),
        "question_answers": one({"qa_owner": talk["qa_owner"]}),
        "assignment_submissions": {},
        "discussion_reports": one({"dr_s3": talk["dr_s3"]}),
        "course_enrollment_grants": one({"grant_s1_pub": e["e_s1_pub"]}),
        "course_invitations": one({"inv_pub": db.value("SELECT id FROM course_invitations")}),
        "course_announcements": one(announcements),
        "payouts": one(po),
        "revenue_totals": {"rt_pub": {r["id"] for r in db.rows("SELECT id FROM revenue_totals WHERE course_id = %s",
                                                               (c_pub.id,))},
                           "rt_w": {r["id"] for r in db.rows("SELECT id FROM revenue_totals "
                                                             "WHERE course_id IS DISTINCT FROM %s", (c_pub.id,))}},
        "private.money_settings": {"ms_singleton": {True}},
        "private.user_role_counts": {f"urc_{r['role']}": {r["role"]}
                                     for r in db.rows("SELECT role::text AS role FROM private.user_role_counts")},
    }
    by_enrollment = {key: label[2:] for label, key in e.items()}           # id -> "s1_pub"
    groups = {t: {} for t in ("lesson_progress", "student_progress", "student_activity",
                              "revenue_transactions", "schema_migrations", "private.student_activity_archive",
                              "private.sign_in_failures", "notifications")}
    for row in db.rows("SELECT id, enrollment_id FROM lesson_progress"):
        groups["lesson_progress"].setdefault("lp_" + by_enrollment[row["enrollment_id"]], set()).add(row["id"])
    for row in db.rows("SELECT id, enrollment_id FROM student_progress"):
        groups["student_progress"].setdefault("sp_" + by_enrollment[row["enrollment_id"]], set()).add(row["id"])
    item = {c_pub.id: "pub", c_arch.id: "arch", c_sa.id: "sa", w_pub: "wpub", w_done: "wdone"}
    who = {u["student"]: "s1", u["student2"]: "s2", u["student3"]: "s3"}
    for row in db.rows("SELECT id, student_id, coalesce(course_id, workshop_id) AS item FROM student_activity"):
        label = f"act_{item[row['item']]}_{who[row['student_id']]}"
        groups["student_activity"].setdefault(label, set()).add(row["id"])
    sale = {e["e_s1_pub"]: "rev_s1_pub", e["e_s3_pub"]: "rev_s3_pub",
            reg["reg_s1"]: "rev_s1_w", reg["reg_s3"]: "rev_s3_w"}
    for row in db.rows("SELECT id, coalesce(enrollment_id, workshop_registration_id) AS item "
                       "FROM revenue_transactions"):
        groups["revenue_transactions"].setdefault(sale[row["item"]], set()).add(row["id"])
    for row in db.rows("SELECT name FROM schema_migrations"):
        groups["schema_migrations"]["mig_" + row["name"][:3]] = {row["name"]}
    for n, row in enumerate(db.rows("SELECT id FROM private.student_activity_archive"), 1):
        groups["private.student_activity_archive"][f"arch_{n}"] = {row["id"]}
    db.rows("SELECT record_sign_in_failure('someone@example.test', '192.0.2.1')")
    groups["private.sign_in_failures"]["fail_1"] = {db.value("SELECT id FROM private.sign_in_failures")}
    recipient = {uid: name for name, uid in u.items()}
    for row in db.rows("SELECT id, user_id FROM notifications"):
        groups["notifications"].setdefault("n_" + recipient[row["user_id"]], set()).add(row["id"])
    groups["notifications"]["nt_student"] = {reminder["student"]}
    ids.update(groups)
    # 016: each audit row by the label of what it is about.
    about = {key: label for table in ("organizations", "course_instructors", "workshop_facilitators",
                                      "course_reviews", "review_reports", "users", "courses", "workshops",
                                      "revenue_transactions")
             for label, keys in ids[table].items() for key in keys}
    ids["audit_log"] = {}
    for row in db.rows("SELECT id, entity_id FROM audit_log"):
        ids["audit_log"].setdefault("al_" + about[row["entity_id"]], set()).add(row["id"])

    world = World(db, ids, {**u, "anon": None, "service": None})
    # Every row of every table carries a label, so ALL and the sets above are exact.
    for t in MATRIX:
        stored = {r["k"] for r in db.rows(f"SELECT {t.key} AS k FROM {t.name}")}
        assert stored == world.keys(t.name, ALL), f"unlabelled or missing rows in {t.name}"
        world.baseline[t.name] = world.fingerprint(t.name)
    return world


@pytest.fixture(scope="module")
def world(module_database):
    return seed(module_database)


# --- runners -------------------------------------------------------------------------

@dataclass
class Result:
    error: str | None = None        # SQLSTATE
    message: str = ""
    rowcount: int | None = None
    values: set | None = None       # first column of what the statement returned
    checked: object = None

    def describe(self, world=None, table=None):
        if self.error:
            return f"error {self.error} ({self.message.strip().splitlines()[0] if self.message else ''})"
        if self.values is not None and world is not None:
            return f"{self.rowcount} row(s): {world.labels(table, self.values)}"
        return f"success, {self.rowcount} row(s)"


def _hashable(value):
    return json.dumps(value, sort_keys=True) if isinstance(value, (dict, list)) else value


def run(world, actor, sql, check=None):
    """``sql`` as ``actor`` in a transaction that is always rolled back; after an error nothing
    else runs in it."""
    params = world.params(actor)
    with world.db.attempt(world.actor(actor)) as cur:
        try:
            cur.execute(sql, params)
        except psycopg2.Error as exc:
            return Result(exc.pgcode, exc.pgerror or str(exc))
        result = Result(rowcount=cur.rowcount)
        if cur.description:
            result.values = {_hashable(next(iter(row.values()))) for row in cur.fetchall()}
        if check is not None:
            cur.execute(check[0], params)
            row = cur.fetchone()
            result.checked = next(iter(row.values())) if row else None
        return result


def expect_rows(world, table, actor, sql, expected):
    """A read: exactly the expected rows, or 42501."""
    got = run(world, actor, sql)
    if expected == DENY:
        assert got.error == DENY, f"{actor}: {sql}\n  got {got.describe(world, table)}, expected 42501"
        return
    assert got.error is None, f"{actor}: {sql}\n  got {got.describe()}"
    want = world.keys(table, expected)
    extra, missing = world.labels(table, got.values - want), world.labels(table, want - got.values)
    assert not extra and not missing, (f"{actor} sees {world.labels(table, got.values)}\n"
                                       f"  access model: {world.labels(table, want)}\n"
                                       f"  not allowed: {extra}; missing: {missing}")


def expect_write(world, table, actor, sql, expected, check=None):
    """A write: its outcome, then (as the owner) the table exactly as seeded."""
    got = run(world, actor, sql, check if expected == OK else None)
    where = f"{actor}: {sql}\n  got {got.describe()}, access model expects"
    if expected == OK:
        assert got.error is None and got.rowcount == 1, f"{where} one row written"
        if check is not None:
            assert got.checked == check[1], f"{where} {check[0]} = {check[1]!r}, read {got.checked!r}"
    elif expected == ZERO:
        assert got.error is None and got.rowcount == 0, f"{where} zero rows (filtered by USING)"
    else:
        assert got.error == expected, f"{where} error {expected}"
    assert world.fingerprint(table) == world.baseline[table], f"{table} changed after a rolled-back attempt"


# --- the tests -----------------------------------------------------------------------

MATRIX_CASES = [pytest.param(t.name, op, actor, id=f"{t.name}-{op}-{actor}")
                for t in MATRIX for op in OPS for actor in ACTORS]


@pytest.mark.parametrize("table, op, actor", MATRIX_CASES)
def test_matrix(world, table, op, actor):
    """One cell of the matrix: ``actor`` runs ``op`` on ``table`` and gets what the access model says."""
    spec = TABLES[table]
    if op == "select":
        expect_rows(world, table, actor, f"SELECT {spec.key} FROM {table}", spec.select[actor])
    else:
        write = getattr(spec, op)
        expect_write(world, table, actor, write.sql, write.outcome(actor), write.check)


@pytest.mark.parametrize("case", [pytest.param(x, id=x.id) for x in EXTRA])
def test_extra(world, case):
    """A forgery attempt or a status move: the outcome the access model gives it."""
    if isinstance(case.expect, (set, frozenset)):
        expect_rows(world, case.table, case.actor, case.sql, case.expect)
    else:
        expect_write(world, case.table, case.actor, case.sql, case.expect, case.check)


def test_the_matrix_covers_every_table(module_database):
    """Every table of schemas public and private has its row in MATRIX."""
    tables = {r["name"] for r in module_database.rows(
        "SELECT CASE schemaname WHEN 'public' THEN tablename ELSE schemaname || '.' || tablename END AS name "
        "FROM pg_tables WHERE schemaname IN ('public', 'private')")}
    assert tables == set(TABLES)


@pytest.mark.parametrize("actor", ["anon", "student"])
def test_the_public_sees_co_teachers_by_name_and_role_only(world, actor):
    """course_teachers lists a published course's teachers (no permissions); a draft's none."""
    with world.db.attempt(world.actor(actor)) as cur:
        cur.execute("SELECT * FROM course_teachers WHERE course_id IN (%(c_pub)s, %(c_draft)s)",
                    world.params(actor))
        rows = cur.fetchall()
        columns = [c.name for c in cur.description]
    assert len(rows) == 1 + len(CO)  # c_pub's owner and its six co-instructors; nothing of c_draft
    assert sorted(r["role"] for r in rows) == ["co-instructor"] * len(CO) + ["primary"]
    assert "permissions" not in columns and "full_name" in columns
