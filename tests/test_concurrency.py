"""Figures stay exact under concurrent load: no deadlock, no lost update, zero mismatches.

Sixteen student connections start together (a barrier) and, for three students
each, enroll in a paid course and pay (the payment confirmed twice), complete
its lessons and quiz, review it, enroll in a free course and start it, register
for a small paid workshop and pay for a seat. Some threads refund a sale or
cancel an enrollment. A seventeenth connection, the instructor, adds lessons to
the free course meanwhile. Afterwards every figure is checked against both
hand-computed totals and the verifier.
"""

import threading
from decimal import Decimal

import psycopg2
import pytest

from tests.support import QUIZ, Actor, gen_course, gen_lesson, gen_user, gen_workshop, mismatches, set_context

THREADS = 16
STUDENTS_PER_THREAD = 3
PRICE = Decimal("49.99")
SEAT_PRICE = Decimal("25.00")
CAPACITY = 10


def _one(conn, actor, query, params=()):
    """One request: a transaction as ``actor``; returns the first row (or None)."""
    with conn, conn.cursor() as cur:
        set_context(cur, actor)
        cur.execute(query, params)
        return cur.fetchone() if cur.description else None


def _student_journey(conn, students, paid, free, workshop, thread_no, ops, quiz_answers):
    service = Actor.service()
    for n, student in enumerate(students):
        me = Actor.user(student)
        (enrollment,) = _one(conn, me, "SELECT enroll_in_course(%s)", (paid.id,))
        for _ in range(2):  # the provider's webhook arrives twice
            _one(conn, service, "SELECT confirm_course_payment(%s)", (enrollment,))
        for lesson in paid.lessons:   # the player's calls: a quiz is passed, the rest completed
            if lesson in quiz_answers:
                _one(conn, me, "SELECT submit_quiz(%s, %s::integer[])", (lesson, quiz_answers[lesson]))
            else:
                _one(conn, me, "SELECT complete_lesson(%s)", (lesson,))
        _one(conn, me, "INSERT INTO course_reviews (course_id, user_id, rating, title) VALUES (%s, %s, %s, 'ok')",
             (paid.id, student, 1 + (thread_no * STUDENTS_PER_THREAD + n) % 5))
        (free_enrollment,) = _one(conn, me, "SELECT enroll_in_course(%s)", (free.id,))
        _one(conn, me, "SELECT start_lesson(%s)", (free.lessons[0],))
        (registration,) = _one(conn, me, "SELECT register_for_workshop(%s)", (workshop,))
        (seat,) = _one(conn, me, "SELECT status::text FROM workshop_registrations WHERE id = %s", (registration,))
        ops[0] += 8 + len(paid.lessons)  # every statement above is one transaction
        if seat == "registered":
            (checkout,) = _one(conn, me, "SELECT start_workshop_checkout(%s, 'test')", (registration,))
            for _ in range(2):  # the provider's webhook arrives twice
                _one(conn, service, "SELECT apply_payment_event(%s, %s, 'payment.succeeded')",
                     (f"evt_seat_{checkout}", checkout))
            ops[0] += 3
        if n == 0 and thread_no % 4 == 0:
            _one(conn, service, "SELECT refund_course_enrollment(%s)", (enrollment,))
            ops[0] += 1
        if n == 1 and thread_no % 4 == 1:
            _one(conn, me, "UPDATE course_enrollments SET status = 'cancelled' WHERE id = %s", (free_enrollment,))
            ops[0] += 1


def test_sixteen_connections_keep_every_figure_exact(database):
    """Concurrent enrolling, learning, reviewing, paying and refunding leave zero mismatches."""
    teacher = gen_user(database, "instructor")
    paid = gen_course(database, teacher, price=str(PRICE), lessons=("text", "video", "quiz"))
    right = [q["answer"] for q in QUIZ["questions"]]
    quiz_answers = {lesson: right for lesson in paid.lessons
                    if database.value("SELECT content_type::text FROM course_lessons WHERE id = %s",
                                      (lesson,)) == "quiz"}
    free = gen_course(database, teacher, lessons=("text", "text"))
    workshop = gen_workshop(database, teacher, price=str(SEAT_PRICE), capacity=CAPACITY)
    students = [gen_user(database) for _ in range(THREADS * STUDENTS_PER_THREAD)]

    barrier = threading.Barrier(THREADS + 1)
    errors, ops = [], [0]
    lock = threading.Lock()

    def worker(thread_no):
        conn = database.connect_app()
        mine = students[thread_no * STUDENTS_PER_THREAD:(thread_no + 1) * STUDENTS_PER_THREAD]
        counted = [0]
        try:
            barrier.wait()
            _student_journey(conn, mine, paid, free, workshop, thread_no, counted, quiz_answers)
        except psycopg2.Error as exc:  # a deadlock or any refusal fails the test below
            errors.append(f"thread {thread_no}: {exc.pgcode} {exc.pgerror}")
        finally:
            conn.close()
            with lock:
                ops[0] += counted[0]

    def instructor():
        conn = database.connect_app()
        try:
            barrier.wait()
            for position in (10, 11):
                _one(conn, Actor.user(teacher),
                     """INSERT INTO course_lessons (module_id, course_id, title, position)
                        VALUES (%s, %s, 'Added live', %s)""", (free.modules[0], free.id, position))
        except psycopg2.Error as exc:
            errors.append(f"instructor: {exc.pgcode} {exc.pgerror}")
        finally:
            conn.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    threads.append(threading.Thread(target=instructor))
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    students_total = THREADS * STUDENTS_PER_THREAD
    refunds = len(range(0, THREADS, 4))
    cancels = len(range(1, THREADS, 4))
    # 566 transactions from the students' side: 11 per student, 3 per paid seat (its checkout, the
    # webhook's event delivered twice), refunds, cancels.
    assert ops[0] == students_total * 11 + 3 * CAPACITY + refunds + cancels == 566
    a = database.rows("SELECT * FROM courses WHERE id = %s", (paid.id,))[0]
    assert a["enrolled_count"] == students_total - refunds
    assert a["completed_count"] == students_total - refunds
    assert a["total_revenue"] == PRICE * (students_total - refunds)
    assert a["review_count"] == students_total
    ratings = [1 + i % 5 for i in range(students_total)]
    assert a["average_rating"] == round(Decimal(sum(ratings)) / len(ratings), 2)
    b = database.rows("SELECT * FROM courses WHERE id = %s", (free.id,))[0]
    assert b["enrolled_count"] == students_total - cancels
    assert database.value("SELECT array_agg(DISTINCT total_lessons) FROM student_progress WHERE course_id = %s",
                          (free.id,)) == [4]
    w = database.rows("SELECT * FROM workshops WHERE id = %s", (workshop,))[0]
    assert (w["enrolled_count"], w["total_revenue"]) == (CAPACITY, SEAT_PRICE * CAPACITY)
    sales = database.value("SELECT count(*) FROM revenue_transactions WHERE transaction_type = 'course_enrollment'")
    assert sales == students_total  # confirmed twice, charged once
    profile = database.rows("SELECT * FROM instructor_profiles WHERE user_id = %s", (teacher,))[0]
    assert (profile["total_students"], profile["total_reviews"]) == (students_total, students_total)
    assert mismatches(database) == []
    # 020's money rules hold after the concurrent payments and refunds.
    assert database.rows("SELECT * FROM private.verify_money()") == []


def _run_in_thread(conn, actor, query, params, outcome):
    """``query`` as ``actor`` on ``conn`` in a thread, committed; ``outcome`` gets "done" or the
    refusal's code."""
    def work():
        try:
            _one(conn, actor, query, params)
            outcome.append("done")
        except psycopg2.Error as exc:
            outcome.append(exc.diag.constraint_name)
    thread = threading.Thread(target=work)
    thread.start()
    return thread


def _wait_until_blocked(database, conn, thread):
    """Until ``conn``'s backend waits for a lock (or its thread ended without waiting)."""
    pid = conn.get_backend_pid()
    while thread.is_alive():
        if database.value("SELECT cardinality(pg_blocking_pids(%s)) > 0", (pid,)):
            return True
        thread.join(0.01)
    return False


@pytest.mark.parametrize("first", ["demotion", "course"])
def test_creating_a_course_while_being_demoted_has_one_consistent_outcome(database, first):
    """An instructor creates a course while an admin makes them a student: the course insert reads
    the owner's role locked (017's lock_teacher_role), so either the demotion committed first and
    the insert is refused, or the insert committed first and the demotion is refused because they
    now teach. Never a student owning a course."""
    teacher, admin = gen_user(database, "instructor"), gen_user(database, "admin")
    insert = ("INSERT INTO courses (instructor_id, title, slug) VALUES (%s, 'Race', %s) RETURNING id",
              (teacher, f"race-{first}"))
    demote = ("SELECT admin_set_role(%s, 'student')", (teacher,))
    holder, waiter = database.connect_app(), database.connect_app()
    try:
        (held_actor, held), (wait_actor, waited) = (
            ((Actor.user(admin), demote), (Actor.user(teacher), insert)) if first == "demotion"
            else ((Actor.user(teacher), insert), (Actor.user(admin), demote)))
        with holder.cursor() as cur:  # the first act, not yet committed
            set_context(cur, held_actor)
            cur.execute(*held)
        outcome = []
        thread = _run_in_thread(waiter, wait_actor, *waited, outcome)
        blocked = _wait_until_blocked(database, waiter, thread)
        holder.commit()
        thread.join()
    finally:
        holder.close()
        waiter.close()
    assert blocked, "the second act waits for the first"
    role = database.value("SELECT role::text FROM users WHERE id = %s", (teacher,))
    courses = database.value("SELECT count(*) FROM courses WHERE instructor_id = %s", (teacher,))
    if first == "demotion":
        assert outcome == ["teacher_not_instructor"] and (role, courses) == ("student", 0)
    else:
        assert outcome == ["instructor_still_teaches"] and (role, courses) == ("instructor", 1)


def test_only_an_instructor_is_made_an_owner_or_a_co_teacher(database):
    """Even maintenance (the owner, no claims) cannot give a course or workshop to a non-instructor."""
    student, teacher = gen_user(database, "student"), gen_user(database, "instructor")
    course = gen_course(database, teacher)
    for query, params in (
            ("INSERT INTO courses (instructor_id, title, slug) VALUES (%s, 'No', 'no-owner') RETURNING id", (student,)),
            ("UPDATE courses SET instructor_id = %s WHERE id = %s RETURNING id", (student, course.id))):
        with pytest.raises(psycopg2.Error) as refused:
            database.value(query, params)
        assert refused.value.diag.constraint_name == "teacher_not_instructor"
    assert database.value("SELECT instructor_id FROM courses WHERE id = %s", (course.id,)) == teacher
    with pytest.raises(psycopg2.Error) as refused:
        gen_workshop(database, student)
    assert refused.value.diag.constraint_name == "teacher_not_instructor"
