"""Every trigger of 002, by the specification's names: what each one keeps, logs and charges.

The world is built with the factories (as the owner); the action under test is
taken by the real actor (student, instructor, admin, the payment service)
through the same SQL a request runs. Each scenario ends with the verifier
agreeing with every stored figure.
"""

from collections import Counter
from decimal import Decimal

import psycopg2
import pytest

from tests.support import pay_seat
from tests.support import (Actor, complete_course, enroll, gen_course, gen_user, gen_workshop, mismatches,
                           pay, record_lesson, register)

D = Decimal


# --- helpers -------------------------------------------------------------------

def run(database, who, query, params=()):
    """One request: ``who`` is a user id or an Actor; returns the rows (if any)."""
    actor = who if isinstance(who, Actor) else Actor.user(who)
    with database.act(actor) as cur:
        cur.execute(query, params)
        return cur.fetchall() if cur.description else []


def one(database, query, params=()):
    rows = database.rows(query, params)
    assert len(rows) == 1, rows
    return rows[0]


def course_figures(database, course_id):
    return one(database, """SELECT enrolled_count, completed_count, average_rating, review_count, total_revenue
                            FROM courses WHERE id = %s""", (course_id,))


def workshop_figures(database, workshop_id):
    return one(database, """SELECT enrolled_count, attended_count, average_satisfaction, feedback_count,
                                   total_revenue
                            FROM workshops WHERE id = %s""", (workshop_id,))


def profile_figures(database, instructor):
    return one(database, """SELECT total_students, total_courses, total_workshops, average_rating, total_reviews
                            FROM instructor_profiles WHERE user_id = %s""", (instructor,))


def progress(database, enrollment):
    return one(database, "SELECT * FROM student_progress WHERE enrollment_id = %s", (enrollment,))


def enrollment_row(database, enrollment):
    return one(database, "SELECT * FROM course_enrollments WHERE id = %s", (enrollment,))


def registration_row(database, registration):
    return one(database, "SELECT * FROM workshop_registrations WHERE id = %s", (registration,))


def activity_types(database, student):
    """The student's timeline as a Counter of activity types."""
    return Counter(r["activity_type"] for r in database.rows(
        "SELECT activity_type::text FROM student_activity WHERE student_id = %s", (student,)))


def activities(database, student, kind):
    return database.rows("SELECT * FROM student_activity WHERE student_id = %s AND activity_type = %s "
                         "ORDER BY occurred_at", (student, kind))


def revenue_rows(database, **where):
    column, value = next(iter(where.items()))
    return database.rows(f"SELECT * FROM revenue_transactions WHERE {column} = %s "
                         "ORDER BY transaction_type, created_at", (value,))


def refund_course(database, enrollment):
    run(database, Actor.service(), "SELECT refund_course_enrollment(%s)", (enrollment,))


def confirm_seat(database, registration):
    pay_seat(database, registration)


def review(database, student, course_id, rating):
    return run(database, student, "INSERT INTO course_reviews (course_id, user_id, rating, title) "
                                  "VALUES (%s, %s, %s, 'A review') RETURNING id",
               (course_id, student, rating))[0]["id"]


def mark(database, teacher, registration, status):
    rows = run(database, teacher, "UPDATE workshop_registrations SET status = %s WHERE id = %s RETURNING id",
               (status, registration))
    assert len(rows) == 1


def add_lesson(database, teacher, course, kind="text", passing_score=None):
    """The instructor adds a lesson to the course's first module (as a request)."""
    lesson = run(database, teacher,
                 """INSERT INTO course_lessons (module_id, course_id, title, position, content_type, passing_score)
                    VALUES (%s, %s, 'Added later', %s, %s, %s) RETURNING id""",
                 (course.modules[0], course.id, 100 + len(course.lessons), kind, passing_score))[0]["id"]
    course.lessons.append(lesson)
    return lesson


def delete_lesson(database, teacher, course, lesson):
    assert len(run(database, teacher, "DELETE FROM course_lessons WHERE id = %s RETURNING id", (lesson,))) == 1
    course.lessons.remove(lesson)


# --- 1. create_student_progress_trigger -----------------------------------------

def test_create_student_progress_trigger_creates_the_progress_row(database):
    """An enrollment gets its student_progress row at once, with the course's lesson and quiz counts."""
    teacher, student = gen_user(database, "instructor"), gen_user(database)
    course = gen_course(database, teacher, lessons=("text", "video", "quiz"))
    assert database.value("SELECT count(*) FROM student_progress") == 0
    enrollment = enroll(database, student, course.id)
    p = progress(database, enrollment)
    assert (p["user_id"], p["course_id"]) == (student, course.id)
    assert (p["total_lessons"], p["completed_lessons"], p["progress_percentage"]) == (3, 0, D("0.00"))
    assert (p["total_quizzes"], p["passed_quizzes"], p["average_quiz_score"]) == (1, 0, None)
    assert (p["total_watch_time_seconds"], p["engagement_score"], p["last_activity_at"]) == (0, D("0.00"), None)
    assert p["certificate_url"] is None
    assert mismatches(database) == []


def test_create_student_progress_trigger_on_a_course_without_lessons(database):
    """A course with no lesson yet gives a progress row of zero lessons at 0%."""
    teacher, student = gen_user(database, "instructor"), gen_user(database)
    course = gen_course(database, teacher, lessons=())
    p = progress(database, enroll(database, student, course.id))
    assert (p["total_lessons"], p["completed_lessons"], p["progress_percentage"]) == (0, 0, D("0.00"))
    assert enrollment_row(database, p["enrollment_id"])["status"] == "enrolled"
    assert mismatches(database) == []


def test_progress_row_and_figures_go_with_a_deleted_enrollment(database):
    """An admin deleting an enrollment removes its progress row and lowers the course and instructor figures."""
    teacher, student, admin = gen_user(database, "instructor"), gen_user(database), gen_user(database, "admin")
    course = gen_course(database, teacher)
    enrollment = enroll(database, student, course.id)
    assert course_figures(database, course.id)["enrolled_count"] == 1
    assert profile_figures(database, teacher)["total_students"] == 1
    assert len(run(database, admin, "DELETE FROM course_enrollments WHERE id = %s RETURNING id",
                   (enrollment,))) == 1
    assert database.value("SELECT count(*) FROM student_progress WHERE enrollment_id = %s", (enrollment,)) == 0
    assert course_figures(database, course.id)["enrolled_count"] == 0
    assert profile_figures(database, teacher)["total_students"] == 0
    assert mismatches(database) == []


# --- 2. log_enrollment_activity_trigger -------------------------------------------

def test_log_enrollment_activity_trigger_enroll_cancel_re_enroll(database):
    """Enrolling, cancelling and enrolling again each log one row, with the course's instructor."""
    teacher, student = gen_user(database, "instructor"), gen_user(database)
    course = gen_course(database, teacher)
    enrollment = enroll(database, student, course.id)
    (first,) = activities(database, student, "enrolled")
    assert (first["instructor_id"], first["course_id"], first["workshop_id"], first["lesson_id"]) == (
        teacher, course.id, None, None)
    assert first["metadata"] == {"status": "enrolled"}

    run(database, student, "UPDATE course_enrollments SET status = 'cancelled' WHERE id = %s", (enrollment,))
    (cancel,) = activities(database, student, "enrollment_cancelled")
    assert (cancel["instructor_id"], cancel["course_id"], cancel["metadata"]) == (
        teacher, course.id, {"status": "cancelled"})

    assert enroll(database, student, course.id) == enrollment  # revived, not duplicated
    assert activity_types(database, student) == Counter({"enrolled": 2, "enrollment_cancelled": 1})
    assert mismatches(database) == []


def test_log_enrollment_activity_trigger_paid_enrollment_logs_enrolled_once(database):
    """A paid enrollment (pending, then enrolled on payment) appears once as enrolled on the timeline."""
    teacher, student = gen_user(database, "instructor"), gen_user(database)
    course = gen_course(database, teacher, price="49.99")
    enrollment = enroll(database, student, course.id)
    pay(database, enrollment)
    assert enrollment_row(database, enrollment)["status"] == "enrolled"
    assert activity_types(database, student) == Counter({"enrolled": 1})
    assert {r["instructor_id"] for r in database.rows("SELECT instructor_id FROM student_activity")} == {teacher}
    assert mismatches(database) == []


# --- 3. update_student_progress_from_lesson_trigger -----------------------------

def test_update_student_progress_from_lesson_trigger_recomputes_every_figure(database):
    """Each lesson recorded moves lessons, percentage, watch time, quiz figures and engagement exactly."""
    teacher, student = gen_user(database, "instructor"), gen_user(database)
    course = gen_course(database, teacher, lessons=("text", "video", "quiz"), passing_score=70, video_minutes=10)
    text, video, quiz = course.lessons
    enrollment = enroll(database, student, course.id)

    record_lesson(database, student, enrollment, course, text)
    p = progress(database, enrollment)
    assert (p["completed_lessons"], p["progress_percentage"], p["engagement_score"]) == (1, D("33.33"), D("16.67"))
    assert p["last_activity_at"] is not None

    record_lesson(database, student, enrollment, course, video, watch=300)
    p = progress(database, enrollment)
    assert (p["completed_lessons"], p["progress_percentage"], p["total_watch_time_seconds"]) == (2, D("66.67"), 300)
    assert p["engagement_score"] == D("48.33")  # 50 x 2/3 + 30 x 300/600

    record_lesson(database, student, enrollment, course, quiz, status="in_progress", score=50)
    p = progress(database, enrollment)
    assert (p["completed_lessons"], p["total_quizzes"], p["passed_quizzes"], p["average_quiz_score"]) == (
        2, 1, 0, D("50.00"))
    assert p["engagement_score"] == D("58.33")  # + 20 x 50/100

    record_lesson(database, student, enrollment, course, quiz, score=80)
    p = progress(database, enrollment)
    assert (p["completed_lessons"], p["progress_percentage"], p["passed_quizzes"], p["average_quiz_score"]) == (
        3, D("100.00"), 1, D("80.00"))
    assert p["engagement_score"] == D("81.00")  # 50 + 15 + 16
    assert mismatches(database) == []


def test_first_lesson_activity_moves_the_enrollment_to_in_progress(database):
    """enrolled -> in_progress on the first lesson touched; the course still counts it enrolled."""
    teacher, student = gen_user(database, "instructor"), gen_user(database)
    course = gen_course(database, teacher)
    enrollment = enroll(database, student, course.id)
    assert enrollment_row(database, enrollment)["status"] == "enrolled"
    record_lesson(database, student, enrollment, course, course.lessons[0], status="in_progress")
    e = enrollment_row(database, enrollment)
    assert (e["status"], e["completed_at"]) == ("in_progress", None)
    assert progress(database, enrollment)["completed_lessons"] == 0
    c = course_figures(database, course.id)
    assert (c["enrolled_count"], c["completed_count"]) == (1, 0)
    assert mismatches(database) == []


def test_completing_every_lesson_completes_the_enrollment_without_certificate(database):
    """All lessons done -> completed, dated, counted and logged once; no certificate when the course has none."""
    teacher, student = gen_user(database, "instructor"), gen_user(database)
    course = gen_course(database, teacher, lessons=("text", "text"), certificate=False)
    enrollment = enroll(database, student, course.id)
    record_lesson(database, student, enrollment, course, course.lessons[0])
    assert enrollment_row(database, enrollment)["status"] == "in_progress"
    record_lesson(database, student, enrollment, course, course.lessons[1])
    e = enrollment_row(database, enrollment)
    assert e["status"] == "completed" and e["completed_at"] is not None
    assert progress(database, enrollment)["certificate_url"] is None
    c = course_figures(database, course.id)
    assert (c["enrolled_count"], c["completed_count"]) == (1, 1)
    (done,) = activities(database, student, "course_completed")
    assert (done["instructor_id"], done["course_id"], done["metadata"]) == (
        teacher, course.id, {"status": "completed"})
    assert mismatches(database) == []


def test_completing_a_certificate_course_sets_certificate_url(database):
    """certificate_enabled: completion issues a certificate and writes its verification URL (005)."""
    teacher, student = gen_user(database, "instructor"), gen_user(database)
    course = gen_course(database, teacher, lessons=("text",), certificate=True)
    enrollment = enroll(database, student, course.id)
    assert progress(database, enrollment)["certificate_url"] is None
    record_lesson(database, student, enrollment, course, course.lessons[0])
    assert enrollment_row(database, enrollment)["status"] == "completed"
    code = database.value("SELECT code FROM certificates WHERE enrollment_id = %s", (enrollment,))
    assert progress(database, enrollment)["certificate_url"] == f"/certificates/{code}"
    assert mismatches(database) == []


def test_lesson_activity_types_and_metadata(database):
    """lesson_started once per lesson, lesson_completed once, quiz_failed / quiz_passed with their scores."""
    teacher, student = gen_user(database, "instructor"), gen_user(database)
    course = gen_course(database, teacher, lessons=("text", "quiz"), passing_score=70)
    text, quiz = course.lessons
    enrollment = enroll(database, student, course.id)
    record_lesson(database, student, enrollment, course, text, status="in_progress")
    record_lesson(database, student, enrollment, course, text)  # completed by an update
    record_lesson(database, student, enrollment, course, text, watch=30)  # a later update logs nothing new
    record_lesson(database, student, enrollment, course, quiz, status="in_progress", score=50)
    record_lesson(database, student, enrollment, course, quiz, score=90)
    assert activity_types(database, student) == Counter({
        "enrolled": 1, "lesson_started": 2, "lesson_completed": 2, "quiz_failed": 1, "quiz_passed": 1,
        "course_completed": 1})
    (failed,) = activities(database, student, "quiz_failed")
    (passed,) = activities(database, student, "quiz_passed")
    assert (failed["lesson_id"], failed["metadata"]) == (quiz, {"quiz_score": 50, "passing_score": 70})
    assert (passed["lesson_id"], passed["metadata"]) == (quiz, {"quiz_score": 90, "passing_score": 70})
    started = {r["lesson_id"] for r in activities(database, student, "lesson_started")}
    assert started == {text, quiz}
    rows = database.rows("SELECT DISTINCT instructor_id, course_id FROM student_activity")
    assert rows == [{"instructor_id": teacher, "course_id": course.id}]
    assert mismatches(database) == []


def test_stamp_lesson_progress_follows_status(database):
    """completed_at is set when a lesson is completed and cleared when it is reopened."""
    teacher, student = gen_user(database, "instructor"), gen_user(database)
    course = gen_course(database, teacher, lessons=("text", "text"))
    enrollment = enroll(database, student, course.id)
    lesson = course.lessons[0]
    stamp = "SELECT completed_at FROM lesson_progress WHERE enrollment_id = %s AND lesson_id = %s"
    record_lesson(database, student, enrollment, course, lesson, status="in_progress")
    assert database.value(stamp, (enrollment, lesson)) is None
    record_lesson(database, student, enrollment, course, lesson)
    first = database.value(stamp, (enrollment, lesson))
    assert first is not None
    record_lesson(database, student, enrollment, course, lesson, watch=60)  # still completed: date kept
    assert database.value(stamp, (enrollment, lesson)) == first
    record_lesson(database, student, enrollment, course, lesson, status="in_progress")
    assert database.value(stamp, (enrollment, lesson)) is None
    assert progress(database, enrollment)["completed_lessons"] == 0
    assert mismatches(database) == []


# --- update_progress_on_lesson_change_trigger ------------------------------------

def test_adding_and_removing_a_lesson_updates_every_enrolled_student(database):
    """A lesson added or removed by the instructor moves every student's total and percentage."""
    teacher = gen_user(database, "instructor")
    ahead, behind = gen_user(database), gen_user(database)
    course = gen_course(database, teacher, lessons=("text", "text"))
    e_ahead, e_behind = enroll(database, ahead, course.id), enroll(database, behind, course.id)
    record_lesson(database, ahead, e_ahead, course, course.lessons[0])
    assert progress(database, e_ahead)["progress_percentage"] == D("50.00")

    added = add_lesson(database, teacher, course)
    a, b = progress(database, e_ahead), progress(database, e_behind)
    assert (a["total_lessons"], a["completed_lessons"], a["progress_percentage"]) == (3, 1, D("33.33"))
    assert (b["total_lessons"], b["completed_lessons"], b["progress_percentage"]) == (3, 0, D("0.00"))
    assert mismatches(database) == []

    delete_lesson(database, teacher, course, added)
    a, b = progress(database, e_ahead), progress(database, e_behind)
    assert (a["total_lessons"], a["progress_percentage"]) == (2, D("50.00"))
    assert (b["total_lessons"], b["progress_percentage"]) == (2, D("0.00"))
    assert mismatches(database) == []


def test_retyping_a_lesson_into_a_quiz_updates_quiz_counts(database):
    """Turning a text lesson into a quiz adds a quiz to every student's count."""
    teacher, student = gen_user(database, "instructor"), gen_user(database)
    course = gen_course(database, teacher, lessons=("text", "text"))
    enrollment = enroll(database, student, course.id)
    assert progress(database, enrollment)["total_quizzes"] == 0
    run(database, teacher, "UPDATE course_lessons SET content_type = 'quiz', passing_score = 60 WHERE id = %s",
        (course.lessons[1],))
    assert progress(database, enrollment)["total_quizzes"] == 1
    assert mismatches(database) == []


def test_deleting_a_completed_lesson_lowers_completed_lessons(database):
    """Removing a lesson the student completed takes it out of their completed count."""
    teacher, student = gen_user(database, "instructor"), gen_user(database)
    course = gen_course(database, teacher, lessons=("text", "text", "text"))
    enrollment = enroll(database, student, course.id)
    record_lesson(database, student, enrollment, course, course.lessons[0])
    delete_lesson(database, teacher, course, course.lessons[0])
    p = progress(database, enrollment)
    assert (p["total_lessons"], p["completed_lessons"], p["progress_percentage"]) == (2, 0, D("0.00"))
    assert mismatches(database) == []


def test_removing_the_last_open_lesson_completes_the_enrollment(database):
    """When the only lesson left undone is removed, every lesson is done: the enrollment completes."""
    teacher, student = gen_user(database, "instructor"), gen_user(database)
    course = gen_course(database, teacher, lessons=("text", "text"))
    enrollment = enroll(database, student, course.id)
    record_lesson(database, student, enrollment, course, course.lessons[0])
    delete_lesson(database, teacher, course, course.lessons[1])
    p = progress(database, enrollment)
    assert (p["total_lessons"], p["completed_lessons"], p["progress_percentage"]) == (1, 1, D("100.00"))
    assert enrollment_row(database, enrollment)["status"] == "completed"
    assert course_figures(database, course.id)["completed_count"] == 1
    assert mismatches(database) == []


def test_a_completed_enrollment_stays_completed_when_a_lesson_is_added(database):
    """Completion is a fact at a date: a later lesson lowers the percentage, not the status."""
    teacher, student = gen_user(database, "instructor"), gen_user(database)
    course = gen_course(database, teacher, lessons=("text", "text"))
    enrollment = complete_course(database, student, course)
    completed_at = enrollment_row(database, enrollment)["completed_at"]
    add_lesson(database, teacher, course)
    p = progress(database, enrollment)
    assert (p["total_lessons"], p["completed_lessons"], p["progress_percentage"]) == (3, 2, D("66.67"))
    e = enrollment_row(database, enrollment)
    assert (e["status"], e["completed_at"]) == ("completed", completed_at)
    assert course_figures(database, course.id)["completed_count"] == 1
    assert mismatches(database) == []


# --- 4. update_course_enrollment_stats_trigger -----------------------------------

def test_update_course_enrollment_stats_trigger_counts_by_status(database):
    """enrolled_count follows enrolled / in_progress / completed; pending, cancelled and refunded do not count."""
    teacher = gen_user(database, "instructor")
    s1, s2, s3 = gen_user(database), gen_user(database), gen_user(database)
    course = gen_course(database, teacher, price="10.00", lessons=("text",))
    e1 = enroll(database, s1, course.id)
    assert enrollment_row(database, e1)["status"] == "pending"
    assert course_figures(database, course.id)["enrolled_count"] == 0
    pay(database, e1)
    assert course_figures(database, course.id)["enrolled_count"] == 1
    complete_course(database, s2, course)
    c = course_figures(database, course.id)
    assert (c["enrolled_count"], c["completed_count"]) == (2, 1)
    e3 = enroll(database, s3, course.id)
    pay(database, e3)
    assert course_figures(database, course.id)["enrolled_count"] == 3
    run(database, s1, "UPDATE course_enrollments SET status = 'cancelled' WHERE id = %s", (e1,))
    assert course_figures(database, course.id)["enrolled_count"] == 2
    refund_course(database, e3)
    c = course_figures(database, course.id)
    assert (c["enrolled_count"], c["completed_count"], c["total_revenue"]) == (1, 1, D("20.00"))
    assert mismatches(database) == []


def test_pending_enrollment_approved_by_the_instructor(database):
    """Without auto-approval a free enrollment waits as pending; the instructor's approval enrolls it."""
    teacher, student = gen_user(database, "instructor"), gen_user(database)
    run(database, teacher, "UPDATE instructor_settings SET auto_approve_enrollments = false WHERE user_id = %s",
        (teacher,))
    course = gen_course(database, teacher)
    enrollment = enroll(database, student, course.id)
    assert enrollment_row(database, enrollment)["status"] == "pending"
    assert course_figures(database, course.id)["enrolled_count"] == 0
    assert progress(database, enrollment)["total_lessons"] == 3
    run(database, teacher, "UPDATE course_enrollments SET status = 'enrolled' WHERE id = %s", (enrollment,))
    assert enrollment_row(database, enrollment)["status"] == "enrolled"
    assert course_figures(database, course.id)["enrolled_count"] == 1
    assert activity_types(database, student) == Counter({"enrolled": 1})
    assert mismatches(database) == []


def test_pending_enrollment_declined_by_the_instructor(database):
    """The instructor declines a pending enrollment: cancelled, dated, never counted."""
    teacher, student = gen_user(database, "instructor"), gen_user(database)
    run(database, teacher, "UPDATE instructor_settings SET auto_approve_enrollments = false WHERE user_id = %s",
        (teacher,))
    course = gen_course(database, teacher)
    enrollment = enroll(database, student, course.id)
    run(database, teacher, "UPDATE course_enrollments SET status = 'cancelled' WHERE id = %s", (enrollment,))
    e = enrollment_row(database, enrollment)
    assert e["status"] == "cancelled" and e["cancelled_at"] is not None
    assert course_figures(database, course.id)["enrolled_count"] == 0
    assert activity_types(database, student) == Counter({"enrolled": 1, "enrollment_cancelled": 1})
    assert mismatches(database) == []


def test_stamp_status_dates_sets_and_clears_an_enrollments_cancelled_at(database):
    """cancelled_at is set on cancel and cleared when the student enrolls again."""
    teacher, student = gen_user(database, "instructor"), gen_user(database)
    course = gen_course(database, teacher)
    enrollment = enroll(database, student, course.id)
    assert enrollment_row(database, enrollment)["cancelled_at"] is None
    run(database, student, "UPDATE course_enrollments SET status = 'cancelled' WHERE id = %s", (enrollment,))
    assert enrollment_row(database, enrollment)["cancelled_at"] is not None
    assert course_figures(database, course.id)["enrolled_count"] == 0
    enroll(database, student, course.id)
    e = enrollment_row(database, enrollment)
    assert (e["status"], e["cancelled_at"]) == ("enrolled", None)
    assert course_figures(database, course.id)["enrolled_count"] == 1
    assert mismatches(database) == []


# --- 5. update_workshop_registration_stats_trigger --------------------------------

def test_workshop_capacity_and_waitlist(database):
    """Seats up to capacity, then the waitlist; a cancellation frees a seat for the next registrant."""
    teacher = gen_user(database, "instructor")
    s1, s2, s3, s4 = (gen_user(database) for _ in range(4))
    workshop = gen_workshop(database, teacher, capacity=2)
    r1, r2, r3 = (register(database, s, workshop) for s in (s1, s2, s3))
    assert [registration_row(database, r)["status"] for r in (r1, r2, r3)] == ["registered", "registered",
                                                                             "waitlisted"]
    assert workshop_figures(database, workshop)["enrolled_count"] == 2
    run(database, s1, "UPDATE workshop_registrations SET status = 'cancelled' WHERE id = %s", (r1,))
    r = registration_row(database, r1)
    assert r["status"] == "cancelled" and r["cancelled_at"] is not None
    # 021: the freed seat goes to the first of the waitlist (promote_waitlist), not to a newcomer.
    assert registration_row(database, r3)["status"] == "registered"
    assert workshop_figures(database, workshop)["enrolled_count"] == 2
    r4 = register(database, s4, workshop)
    assert registration_row(database, r4)["status"] == "waitlisted"
    assert workshop_figures(database, workshop)["enrolled_count"] == 2

    waiting, promoted = sorted(activities(database, s3, "workshop_registered"),
                               key=lambda a: a["metadata"]["status"] == "registered")
    assert (waiting["instructor_id"], waiting["workshop_id"], waiting["course_id"], waiting["metadata"]) == (
        teacher, workshop, None, {"status": "waitlisted"})
    assert promoted["metadata"] == {"status": "registered"}
    assert activity_types(database, s1) == Counter({"workshop_registered": 1, "workshop_cancelled": 1})
    (cancelled,) = activities(database, s1, "workshop_cancelled")
    assert (cancelled["instructor_id"], cancelled["workshop_id"]) == (teacher, workshop)
    assert mismatches(database) == []


def held(database, workshop, ended: bool) -> None:
    """021: move a workshop into the past as maintenance would (started; ended or not)."""
    end = "now() - interval '1 minute'" if ended else "now() + interval '1 hour'"
    database.value(f"UPDATE workshops SET start_time = now() - interval '2 hours', end_time = {end} "
                   "WHERE id = %s RETURNING 1", (workshop,))


def test_workshop_attendance(database):
    """The instructor marks attendance: attended_count, attended_at and the timeline follow."""
    teacher, s1, s2 = gen_user(database, "instructor"), gen_user(database), gen_user(database)
    workshop = gen_workshop(database, teacher)
    r1, r2 = register(database, s1, workshop), register(database, s2, workshop)
    held(database, workshop, ended=False)  # 021: attendance once it has started
    mark(database, teacher, r1, "attended")
    mark(database, teacher, r2, "no_show")
    w = workshop_figures(database, workshop)
    assert (w["enrolled_count"], w["attended_count"]) == (2, 1)
    assert registration_row(database, r1)["attended_at"] is not None
    assert registration_row(database, r2)["attended_at"] is None
    mark(database, teacher, r2, "attended")
    assert workshop_figures(database, workshop)["attended_count"] == 2
    mark(database, teacher, r1, "no_show")
    assert registration_row(database, r1)["attended_at"] is None
    w = workshop_figures(database, workshop)
    assert (w["enrolled_count"], w["attended_count"]) == (2, 1)
    (attended,) = activities(database, s2, "workshop_attended")
    assert (attended["instructor_id"], attended["workshop_id"], attended["metadata"]) == (
        teacher, workshop, {"status": "attended"})
    assert activity_types(database, s1) == Counter({"workshop_registered": 1, "workshop_attended": 1})
    assert mismatches(database) == []


def test_stamp_status_dates_clears_a_registrations_cancelled_at_on_re_registering(database):
    """A cancelled registration registered again is no longer dated cancelled (as enrollments are)."""
    teacher, student = gen_user(database, "instructor"), gen_user(database)
    workshop = gen_workshop(database, teacher)
    registration = register(database, student, workshop)
    run(database, student, "UPDATE workshop_registrations SET status = 'cancelled' WHERE id = %s",
        (registration,))
    assert registration_row(database, registration)["cancelled_at"] is not None
    assert register(database, student, workshop) == registration
    r = registration_row(database, registration)
    assert r["status"] == "registered"
    assert workshop_figures(database, workshop)["enrolled_count"] == 1
    assert mismatches(database) == []
    assert r["cancelled_at"] is None


# --- 6. update_course_rating_trigger ---------------------------------------------

def test_update_course_rating_trigger_averages_visible_reviews(database):
    """Course and instructor averages follow inserts, edits, hiding and deletion; hidden reviews do not count."""
    teacher, admin = gen_user(database, "instructor"), gen_user(database, "admin")
    s1, s2, s3 = gen_user(database), gen_user(database), gen_user(database)
    course = gen_course(database, teacher, lessons=("text",))
    for s in (s1, s2, s3):
        complete_course(database, s, course)
    five = review(database, s1, course.id, 5)
    review(database, s2, course.id, 4)
    third = review(database, s3, course.id, 4)

    def figures():
        c, p = course_figures(database, course.id), profile_figures(database, teacher)
        assert (c["average_rating"], c["review_count"]) == (p["average_rating"], p["total_reviews"])
        return c["average_rating"], c["review_count"]

    assert figures() == (D("4.33"), 3)
    run(database, admin, "UPDATE course_reviews SET is_visible = false, moderation_reason = 'spam' WHERE id = %s",
        (five,))
    assert figures() == (D("4.00"), 2)
    assert mismatches(database) == []
    run(database, admin, "UPDATE course_reviews SET is_visible = true, moderation_reason = NULL WHERE id = %s",
        (five,))
    assert figures() == (D("4.33"), 3)
    run(database, s2, "UPDATE course_reviews SET rating = 1 WHERE user_id = %s", (s2,))
    assert figures() == (D("3.33"), 3)
    run(database, s3, "DELETE FROM course_reviews WHERE id = %s", (third,))
    assert figures() == (D("3.00"), 2)
    run(database, admin, "UPDATE course_reviews SET is_visible = false WHERE course_id = %s", (course.id,))
    assert figures() == (None, 0)
    posted = activities(database, s1, "review_posted")
    assert [(r["instructor_id"], r["course_id"], r["metadata"]["rating"]) for r in posted] == [
        (teacher, course.id, 5)]
    assert mismatches(database) == []


def test_instructor_rating_spans_all_their_courses(database):
    """The instructor's average is over the visible reviews of all their courses, not a mean of means."""
    teacher = gen_user(database, "instructor")
    s1, s2 = gen_user(database), gen_user(database)
    a = gen_course(database, teacher, lessons=("text",))
    b = gen_course(database, teacher, lessons=("text",))
    for s in (s1, s2):
        complete_course(database, s, a)
    complete_course(database, s1, b)
    review(database, s1, a.id, 5)
    review(database, s2, a.id, 4)
    review(database, s1, b.id, 2)
    assert course_figures(database, a.id)["average_rating"] == D("4.50")
    assert course_figures(database, b.id)["average_rating"] == D("2.00")
    p = profile_figures(database, teacher)
    assert (p["average_rating"], p["total_reviews"]) == (D("3.67"), 3)
    assert mismatches(database) == []


# --- 7. update_workshop_satisfaction_trigger ---------------------------------------

def test_update_workshop_satisfaction_trigger(database):
    """Attendees' feedback averages on the workshop through insert, update and delete."""
    teacher, admin = gen_user(database, "instructor"), gen_user(database, "admin")
    s1, s2 = gen_user(database), gen_user(database)
    workshop = gen_workshop(database, teacher)
    seats = [register(database, s, workshop) for s in (s1, s2)]
    held(database, workshop, ended=True)  # 021: attendance after the start, feedback after the end
    for seat in seats:
        mark(database, teacher, seat, "attended")
    feedback = "INSERT INTO workshop_feedback (workshop_id, user_id, overall_satisfaction, nps_score) " \
               "VALUES (%s, %s, %s, %s) RETURNING id"
    first = run(database, s1, feedback, (workshop, s1, 5, 9))[0]["id"]
    run(database, s2, feedback, (workshop, s2, 4, 7))
    w = workshop_figures(database, workshop)
    assert (w["average_satisfaction"], w["feedback_count"]) == (D("4.50"), 2)
    run(database, s2, "UPDATE workshop_feedback SET overall_satisfaction = 1 WHERE user_id = %s", (s2,))
    w = workshop_figures(database, workshop)
    assert (w["average_satisfaction"], w["feedback_count"]) == (D("3.00"), 2)
    run(database, admin, "DELETE FROM workshop_feedback WHERE id = %s", (first,))
    w = workshop_figures(database, workshop)
    assert (w["average_satisfaction"], w["feedback_count"]) == (D("1.00"), 1)
    (logged,) = activities(database, s1, "feedback_submitted")
    assert (logged["instructor_id"], logged["workshop_id"], logged["metadata"]) == (
        teacher, workshop, {"overall_satisfaction": 5, "nps_score": 9})
    assert mismatches(database) == []


# --- 8. update_instructor_stats_trigger (courses, workshops, course_enrollments) ----

def test_total_students_is_distinct_across_courses(database):
    """A student in two of the instructor's courses is one student; cancelling does not unmake them."""
    teacher = gen_user(database, "instructor")
    both, one_only = gen_user(database), gen_user(database)
    a, b = gen_course(database, teacher), gen_course(database, teacher)
    enroll(database, both, a.id)
    e = enroll(database, both, b.id)
    assert profile_figures(database, teacher)["total_students"] == 1
    enroll(database, one_only, a.id)
    assert profile_figures(database, teacher)["total_students"] == 2
    run(database, both, "UPDATE course_enrollments SET status = 'cancelled' WHERE id = %s", (e,))
    assert profile_figures(database, teacher)["total_students"] == 2
    assert mismatches(database) == []


def test_total_courses_counts_published_only(database):
    """Drafts and archived courses are not counted; publishing stamps published_at once."""
    teacher = gen_user(database, "instructor")
    course = gen_course(database, teacher, status="draft")
    assert profile_figures(database, teacher)["total_courses"] == 0
    assert database.value("SELECT published_at FROM courses WHERE id = %s", (course.id,)) is None
    run(database, teacher, "UPDATE courses SET status = 'published' WHERE id = %s", (course.id,))
    assert profile_figures(database, teacher)["total_courses"] == 1
    published_at = database.value("SELECT published_at FROM courses WHERE id = %s", (course.id,))
    assert published_at is not None
    gen_course(database, teacher)
    assert profile_figures(database, teacher)["total_courses"] == 2
    run(database, teacher, "UPDATE courses SET status = 'archived' WHERE id = %s", (course.id,))
    assert profile_figures(database, teacher)["total_courses"] == 1
    run(database, teacher, "UPDATE courses SET status = 'published' WHERE id = %s", (course.id,))
    assert database.value("SELECT published_at FROM courses WHERE id = %s", (course.id,)) == published_at
    assert profile_figures(database, teacher)["total_courses"] == 2
    assert mismatches(database) == []


def test_deleting_a_published_course_lowers_total_courses(database):
    """An admin deleting a published course (no enrollments) takes it out of the count."""
    teacher, admin = gen_user(database, "instructor"), gen_user(database, "admin")
    course = gen_course(database, teacher)
    assert profile_figures(database, teacher)["total_courses"] == 1
    assert len(run(database, admin, "DELETE FROM courses WHERE id = %s RETURNING id", (course.id,))) == 1
    assert profile_figures(database, teacher)["total_courses"] == 0
    assert mismatches(database) == []


def test_total_workshops_counts_published_and_completed(database):
    """Draft and cancelled workshops do not count; published and completed ones do."""
    teacher = gen_user(database, "instructor")
    workshop = gen_workshop(database, teacher, status="draft")
    assert profile_figures(database, teacher)["total_workshops"] == 0
    run(database, teacher, "UPDATE workshops SET status = 'published' WHERE id = %s", (workshop,))
    assert profile_figures(database, teacher)["total_workshops"] == 1
    other = gen_workshop(database, teacher)
    assert profile_figures(database, teacher)["total_workshops"] == 2
    held(database, workshop, ended=True)  # 021: completed once it has ended
    run(database, teacher, "UPDATE workshops SET status = 'completed' WHERE id = %s", (workshop,))
    assert profile_figures(database, teacher)["total_workshops"] == 2
    run(database, teacher, "UPDATE workshops SET status = 'cancelled' WHERE id = %s", (other,))
    assert profile_figures(database, teacher)["total_workshops"] == 1
    assert mismatches(database) == []


def test_handing_a_course_to_another_instructor_moves_its_figures(database):
    """An admin reassigning a course refreshes both instructors' students, courses and rating."""
    old, new, admin = gen_user(database, "instructor"), gen_user(database, "instructor"), gen_user(database, "admin")
    student = gen_user(database)
    course = gen_course(database, old, lessons=("text",))
    complete_course(database, student, course)
    review(database, student, course.id, 4)
    assert profile_figures(database, old) == {"total_students": 1, "total_courses": 1, "total_workshops": 0,
                                              "average_rating": D("4.00"), "total_reviews": 1}
    run(database, admin, "UPDATE courses SET instructor_id = %s WHERE id = %s", (new, course.id))
    assert profile_figures(database, old) == {"total_students": 0, "total_courses": 0, "total_workshops": 0,
                                              "average_rating": None, "total_reviews": 0}
    assert profile_figures(database, new) == {"total_students": 1, "total_courses": 1, "total_workshops": 0,
                                              "average_rating": D("4.00"), "total_reviews": 1}
    assert mismatches(database) == []


# --- 9. create_revenue_transaction_from_enrollment_trigger ------------------------

def test_a_paid_enrollment_writes_one_sale(database):
    """Payment confirmed (twice) writes exactly one sale with the 20% fee, and the course's revenue."""
    teacher, student = gen_user(database, "instructor"), gen_user(database)
    course = gen_course(database, teacher, price="49.99")
    enrollment = enroll(database, student, course.id)
    assert revenue_rows(database, enrollment_id=enrollment) == []
    pay(database, enrollment)
    pay(database, enrollment)  # the provider's webhook arrives twice
    (sale,) = revenue_rows(database, enrollment_id=enrollment)
    assert {k: sale[k] for k in ("instructor_id", "student_id", "course_id", "workshop_id", "refund_of",
                                 "transaction_type", "amount", "platform_fee_percentage", "platform_fee_amount",
                                 "instructor_earnings", "payment_status", "payout_status", "currency")} == {
        "instructor_id": teacher, "student_id": student, "course_id": course.id, "workshop_id": None,
        "refund_of": None, "transaction_type": "course_enrollment", "amount": D("49.99"),
        "platform_fee_percentage": D("20.00"), "platform_fee_amount": D("10.00"),
        "instructor_earnings": D("39.99"), "payment_status": "completed", "payout_status": "pending",
        "currency": "USD"}
    e = enrollment_row(database, enrollment)
    assert (e["status"], e["payment_status"], e["amount_paid"]) == ("enrolled", "completed", D("49.99"))
    assert course_figures(database, course.id)["total_revenue"] == D("49.99")
    assert mismatches(database) == []


def test_a_free_enrollment_writes_no_revenue(database):
    """A free course enrolls without any money row."""
    teacher, student = gen_user(database, "instructor"), gen_user(database)
    course = gen_course(database, teacher)
    complete_course(database, student, course)
    assert database.value("SELECT count(*) FROM revenue_transactions") == 0
    assert course_figures(database, course.id)["total_revenue"] == D("0.00")
    assert mismatches(database) == []


def test_a_refund_mirrors_the_sale_exactly(database):
    """The refund is the sale negated, pointing at it; the course's revenue and count drop; it is logged."""
    teacher, student = gen_user(database, "instructor"), gen_user(database)
    course = gen_course(database, teacher, price="49.99")
    enrollment = enroll(database, student, course.id)
    pay(database, enrollment)
    refund_course(database, enrollment)
    refund_course(database, enrollment)  # a retried refund changes nothing
    sale, refund = revenue_rows(database, enrollment_id=enrollment)
    assert (sale["transaction_type"], refund["transaction_type"]) == ("course_enrollment", "refund")
    assert refund["refund_of"] == sale["id"]
    for key in ("amount", "platform_fee_amount", "instructor_earnings"):
        assert refund[key] == -sale[key]
    for key in ("instructor_id", "student_id", "course_id", "workshop_id", "enrollment_id", "currency",
                "platform_fee_percentage", "payment_status"):
        assert refund[key] == sale[key]
    assert (refund["amount"], refund["platform_fee_amount"], refund["instructor_earnings"]) == (
        D("-49.99"), D("-10.00"), D("-39.99"))
    e = enrollment_row(database, enrollment)
    assert (e["status"], e["payment_status"]) == ("refunded", "refunded")
    c = course_figures(database, course.id)
    assert (c["total_revenue"], c["enrolled_count"]) == (D("0.00"), 0)
    (logged,) = activities(database, student, "refunded")
    assert (logged["instructor_id"], logged["course_id"]) == (teacher, course.id)
    assert mismatches(database) == []


@pytest.mark.parametrize("price, fee, earnings", [
    ("0.01", "0.00", "0.01"),
    ("0.03", "0.01", "0.02"),
    ("0.05", "0.01", "0.04"),
    ("19.99", "4.00", "15.99"),
    ("33.33", "6.67", "26.66"),
    ("49.99", "10.00", "39.99"),
])
def test_platform_fee_rounding_on_awkward_prices(database, price, fee, earnings):
    """Fee = 20% rounded half away from zero to the cent; earnings the rest; refunds negate both."""
    teacher, student = gen_user(database, "instructor"), gen_user(database)
    course = gen_course(database, teacher, price=price)
    enrollment = enroll(database, student, course.id)
    pay(database, enrollment)
    refund_course(database, enrollment)
    sale, refund = revenue_rows(database, enrollment_id=enrollment)
    assert (sale["amount"], sale["platform_fee_amount"], sale["instructor_earnings"]) == (
        D(price), D(fee), D(earnings))
    assert (refund["amount"], refund["platform_fee_amount"], refund["instructor_earnings"]) == (
        -D(price), -D(fee), -D(earnings))
    for row in (sale, refund):
        assert row["amount"] == row["platform_fee_amount"] + row["instructor_earnings"]
    assert mismatches(database) == []


def test_cancel_and_re_enroll_is_never_charged_twice(database):
    """enrolled -> cancelled -> enrolled again keeps the one payment and the one sale."""
    teacher, student = gen_user(database, "instructor"), gen_user(database)
    course = gen_course(database, teacher, price="49.99")
    enrollment = enroll(database, student, course.id)
    pay(database, enrollment)
    run(database, student, "UPDATE course_enrollments SET status = 'cancelled' WHERE id = %s", (enrollment,))
    assert enroll(database, student, course.id) == enrollment
    e = enrollment_row(database, enrollment)
    assert (e["status"], e["payment_status"], e["amount_paid"]) == ("enrolled", "completed", D("49.99"))
    pay(database, enrollment)
    (sale,) = revenue_rows(database, enrollment_id=enrollment)
    assert sale["amount"] == D("49.99")
    assert course_figures(database, course.id)["total_revenue"] == D("49.99")
    assert course_figures(database, course.id)["enrolled_count"] == 1
    assert mismatches(database) == []


def test_enrolling_again_is_refused_with_the_reason(database):
    """An active enrollment is 'already enrolled'; a refunded one says so, and is not revived."""
    teacher, student = gen_user(database, "instructor"), gen_user(database)
    course = gen_course(database, teacher, price="49.99")
    enrollment = enroll(database, student, course.id)
    with pytest.raises(psycopg2.errors.UniqueViolation, match="already enrolled"):
        enroll(database, student, course.id)
    pay(database, enrollment)
    refund_course(database, enrollment)
    with pytest.raises(psycopg2.errors.UniqueViolation, match="was refunded"):
        enroll(database, student, course.id)
    assert enrollment_row(database, enrollment)["status"] == "refunded"
    assert len(revenue_rows(database, enrollment_id=enrollment)) == 2  # the sale and its refund


def test_a_paid_enrollment_awaiting_approval_is_charged_once_on_approval(database):
    """Paid but pending (no auto-approval): the sale is written when the instructor approves, once."""
    teacher, student = gen_user(database, "instructor"), gen_user(database)
    run(database, teacher, "UPDATE instructor_settings SET auto_approve_enrollments = false WHERE user_id = %s",
        (teacher,))
    course = gen_course(database, teacher, price="19.99")
    enrollment = enroll(database, student, course.id)
    pay(database, enrollment)
    e = enrollment_row(database, enrollment)
    assert (e["status"], e["payment_status"]) == ("pending", "completed")
    assert revenue_rows(database, enrollment_id=enrollment) == []
    run(database, teacher, "UPDATE course_enrollments SET status = 'enrolled' WHERE id = %s", (enrollment,))
    (sale,) = revenue_rows(database, enrollment_id=enrollment)
    assert (sale["amount"], sale["instructor_earnings"]) == (D("19.99"), D("15.99"))
    pay(database, enrollment)
    assert len(revenue_rows(database, enrollment_id=enrollment)) == 1
    assert course_figures(database, course.id)["total_revenue"] == D("19.99")
    assert mismatches(database) == []


def test_a_second_sale_or_refund_row_is_refused_by_the_unique_indexes(database):
    """Even the owner cannot insert a second sale for an enrollment, or refunds of a sale past what
    was paid (020: several refunds of a sale, their sum capped, in place of one refund per sale)."""
    teacher, student = gen_user(database, "instructor"), gen_user(database)
    course = gen_course(database, teacher, price="49.99")
    enrollment = enroll(database, student, course.id)
    pay(database, enrollment)
    with pytest.raises(psycopg2.errors.UniqueViolation) as caught:
        database.rows(
            """INSERT INTO revenue_transactions (instructor_id, student_id, course_id, enrollment_id,
                   transaction_type, amount, platform_fee_amount, instructor_earnings)
               VALUES (%s, %s, %s, %s, 'course_enrollment', 49.99, 10.00, 39.99)""",
            (teacher, student, course.id, enrollment))
    assert caught.value.diag.constraint_name == "uq_revenue_one_sale_per_enrollment"
    refund_course(database, enrollment)
    sale_id = database.value("SELECT id FROM revenue_transactions WHERE transaction_type = 'course_enrollment'")
    with pytest.raises(psycopg2.errors.CheckViolation) as caught:
        database.rows(
            """INSERT INTO revenue_transactions (instructor_id, student_id, course_id, enrollment_id, refund_of,
                   transaction_type, amount, platform_fee_amount, instructor_earnings)
               VALUES (%s, %s, %s, %s, %s, 'refund', -0.01, 0, -0.01)""",
            (teacher, student, course.id, enrollment, sale_id))
    assert caught.value.diag.constraint_name == "refund_exceeds_sale"
    assert database.value("SELECT count(*) FROM revenue_transactions") == 2
    assert course_figures(database, course.id)["total_revenue"] == D("0.00")
    assert mismatches(database) == []


# --- 10. create_revenue_transaction_from_workshop_trigger -------------------------

def test_a_paid_seat_writes_one_sale_and_its_refund(database):
    """A seat's payment (confirmed twice) is one sale; its refund the mirror; revenue and seats follow."""
    teacher, student = gen_user(database, "instructor"), gen_user(database)
    workshop = gen_workshop(database, teacher, price="25.00")
    registration = register(database, student, workshop)
    assert revenue_rows(database, workshop_registration_id=registration) == []
    confirm_seat(database, registration)
    confirm_seat(database, registration)
    (sale,) = revenue_rows(database, workshop_registration_id=registration)
    assert (sale["transaction_type"], sale["instructor_id"], sale["student_id"], sale["workshop_id"],
            sale["course_id"]) == ("workshop_registration", teacher, student, workshop, None)
    assert (sale["amount"], sale["platform_fee_amount"], sale["instructor_earnings"]) == (
        D("25.00"), D("5.00"), D("20.00"))
    assert workshop_figures(database, workshop)["total_revenue"] == D("25.00")
    assert registration_row(database, registration)["amount_paid"] == D("25.00")
    with pytest.raises(psycopg2.errors.UniqueViolation) as caught:
        database.rows(
            """INSERT INTO revenue_transactions (instructor_id, workshop_id, workshop_registration_id,
                   transaction_type, amount, platform_fee_amount, instructor_earnings)
               VALUES (%s, %s, %s, 'workshop_registration', 25.00, 5.00, 20.00)""",
            (teacher, workshop, registration))
    assert caught.value.diag.constraint_name == "uq_revenue_one_sale_per_registration"

    run(database, Actor.service(), "SELECT refund_workshop_registration(%s)", (registration,))
    sale, refund = revenue_rows(database, workshop_registration_id=registration)
    assert refund["refund_of"] == sale["id"]
    assert (refund["amount"], refund["platform_fee_amount"], refund["instructor_earnings"]) == (
        D("-25.00"), D("-5.00"), D("-20.00"))
    assert (refund["workshop_id"], refund["instructor_id"], refund["student_id"]) == (workshop, teacher, student)
    r = registration_row(database, registration)
    assert (r["status"], r["payment_status"]) == ("cancelled", "refunded")
    w = workshop_figures(database, workshop)
    assert (w["total_revenue"], w["enrolled_count"]) == (D("0.00"), 0)
    assert mismatches(database) == []


def test_a_workshop_refund_is_logged_as_refunded(database):
    """A refunded seat appears on the timeline as refunded (as a refunded enrollment does)."""
    teacher, student = gen_user(database, "instructor"), gen_user(database)
    workshop = gen_workshop(database, teacher, price="25.00")
    registration = register(database, student, workshop)
    confirm_seat(database, registration)
    run(database, Actor.service(), "SELECT refund_workshop_registration(%s)", (registration,))
    assert mismatches(database) == []
    refunded = activities(database, student, "refunded")
    assert [(r["instructor_id"], r["workshop_id"]) for r in refunded] == [(teacher, workshop)]


def test_a_platform_admin_refunds_from_the_back_office(database):
    """admin_refund() refunds a seat or an enrollment for a platform admin, and no one else."""
    teacher, student, admin = gen_user(database, "instructor"), gen_user(database), gen_user(database, "admin")
    course = gen_course(database, teacher, price="10.00")
    enrollment = enroll(database, student, course.id)
    pay(database, enrollment)
    workshop = gen_workshop(database, teacher, price="25.00")
    registration = register(database, student, workshop)
    confirm_seat(database, registration)
    for refuser in (teacher, student):
        with database.attempt(Actor.user(refuser)) as cur, pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cur.execute("SELECT admin_refund(%s, %s)", (enrollment, registration))
    assert revenue_rows(database, transaction_type="refund") == []
    run(database, admin, "SELECT admin_refund(%s, NULL)", (enrollment,))
    run(database, admin, "SELECT admin_refund(NULL, %s)", (registration,))
    refunds = revenue_rows(database, transaction_type="refund")
    assert sorted(r["amount"] for r in refunds) == [D("-25.00"), D("-10.00")]
    assert mismatches(database) == []


def test_a_waitlisted_or_free_seat_is_never_charged(database):
    """No sale for a free seat; a waitlisted seat cannot be paid for."""
    teacher, s1, s2 = gen_user(database, "instructor"), gen_user(database), gen_user(database)
    free = gen_workshop(database, teacher, capacity=5)
    r_free = register(database, s1, free)
    assert registration_row(database, r_free)["payment_status"] == "completed"
    paid = gen_workshop(database, teacher, price="30.00", capacity=1)
    confirm_seat(database, register(database, s1, paid))
    waiting = register(database, s2, paid)
    assert registration_row(database, waiting)["status"] == "waitlisted"
    with database.attempt(Actor.user(s2)) as cur, pytest.raises(psycopg2.errors.CheckViolation):
        cur.execute("SELECT start_workshop_checkout(%s, 'test')", (waiting,))  # a waitlisted seat is not paid
    assert revenue_rows(database, workshop_registration_id=r_free) == []
    assert revenue_rows(database, workshop_registration_id=waiting) == []
    assert workshop_figures(database, free)["total_revenue"] == D("0.00")
    assert workshop_figures(database, paid)["total_revenue"] == D("30.00")
    assert mismatches(database) == []


# --- ensure_instructor_records ------------------------------------------------------

def test_ensure_instructor_records_on_sign_up_and_on_promotion(database):
    """An instructor gets a profile and settings; a student gets them when an admin makes them instructor."""
    teacher, student, admin = gen_user(database, "instructor"), gen_user(database), gen_user(database, "admin")
    count = "SELECT (SELECT count(*) FROM instructor_profiles WHERE user_id = %(u)s) + " \
            "(SELECT count(*) FROM instructor_settings WHERE user_id = %(u)s)"
    assert database.value(count, {"u": teacher}) == 2
    assert profile_figures(database, teacher) == {"total_students": 0, "total_courses": 0, "total_workshops": 0,
                                                  "average_rating": None, "total_reviews": 0}
    assert database.value("SELECT auto_approve_enrollments FROM instructor_settings WHERE user_id = %s",
                          (teacher,)) is True
    assert database.value(count, {"u": student}) == 0
    run(database, admin, "UPDATE users SET role = 'instructor' WHERE id = %s", (student,))
    assert database.value(count, {"u": student}) == 2
    run(database, admin, "UPDATE users SET role = 'student' WHERE id = %s", (student,))
    run(database, admin, "UPDATE users SET role = 'instructor' WHERE id = %s", (student,))
    assert database.value(count, {"u": student}) == 2  # no duplicate, no error
    assert mismatches(database) == []
