"""The write side: one enrollment and one lesson_progress row with every trigger,
against the same insert into a bare table, and 50 concurrent enrollments.

* Enrollment, app side: ``SELECT enroll_in_course(course)`` as a student who
  is not enrolled, ``authenticated`` with claims, exactly as the enroll
  button runs it, into the largest instructor's biggest course (paid, so it
  inserts a pending enrollment; every trigger of course_enrollments fires).
* lesson_progress, app side: the "mark complete" upsert the player sends
  (``INSERT ... ON CONFLICT (enrollment_id, lesson_id) DO UPDATE``), as the
  student of an enrollment in that course that has no progress yet.
* Bare side: a plain ``INSERT`` of the same columns, as the owner, into
  ``CREATE TEMP TABLE ... (LIKE <table> INCLUDING DEFAULTS)``: no triggers,
  no policies, no indexes, no foreign keys.

Each insert runs in its own transaction and is rolled back, so the dataset
does not change and every round inserts into the same state.

The concurrent test commits: 50 threads, each its own connection and its own
student, call ``enroll_in_course`` on the largest instructor's biggest free
course at once; the course's enrolled_count must rise by exactly 50 and
``verify_denormalized_figures()`` must be empty. The 50 enrollments (and
their activity rows) are deleted afterwards as the owner, so the dataset
stays the generated one.
"""

from __future__ import annotations

import itertools
import json
import logging
import threading
import time

import psycopg2

from portal.bench.measure import SET_CLAIMS
from portal.bench.timing import interleaved, ms, percentile, summary

log = logging.getLogger(__name__)

# Marking a lesson complete as the player does: through complete_lesson() (007).
COMPLETE_LESSON = "SELECT complete_lesson(%s)"


def claims(user_id) -> str:
    return json.dumps({"sub": str(user_id), "role": "authenticated"})


def students_outside(owner, course_id, count: int, skip: int = 0) -> list:
    """``count`` students with no enrollment in the course."""
    with owner.cursor() as cur:
        cur.execute("""SELECT u.id FROM users u
                       WHERE u.role = 'student' AND NOT EXISTS (
                           SELECT 1 FROM course_enrollments e WHERE e.course_id = %s AND e.user_id = u.id)
                       ORDER BY u.id OFFSET %s LIMIT %s""", (course_id, skip, count))
        return [row[0] for row in cur.fetchall()]


def _timed_rollback(conn, statements) -> float:
    """Run ``statements`` [(sql, params, timed)], rolling back; the timed ones' seconds."""
    took = 0.0
    try:
        with conn.cursor() as cur:
            for sql, params, timed in statements:
                started = time.perf_counter()
                cur.execute(sql, params)
                if timed:
                    took += time.perf_counter() - started
    finally:
        conn.rollback()
    return took


def measure_inserts(urls, course_id, rounds: int) -> list[dict]:
    """Enrollment and lesson_progress inserts, app path versus bare table (ms, medians)."""
    app, owner = psycopg2.connect(urls.app), psycopg2.connect(urls.owner)
    try:
        with owner.cursor() as cur:
            cur.execute("CREATE TEMP TABLE bare_enrollments (LIKE course_enrollments INCLUDING DEFAULTS)")
            cur.execute("CREATE TEMP TABLE bare_lesson_progress (LIKE lesson_progress INCLUDING DEFAULTS)")
            cur.execute("""SELECT e.id, e.user_id, l.id FROM course_enrollments e
                           JOIN course_lessons l ON l.course_id = e.course_id
                           JOIN course_modules m ON m.id = l.module_id AND m.position = 0 AND l.position = 0
                           WHERE e.course_id = %s AND e.status = 'enrolled'
                             AND NOT EXISTS (SELECT 1 FROM lesson_progress p WHERE p.enrollment_id = e.id)
                           ORDER BY e.id LIMIT %s""", (course_id, rounds + 2))
            learners = cur.fetchall()
        owner.commit()
        # Every insert is rolled back, so the same students can enroll (and learn) round after round.
        newcomers = itertools.cycle(students_outside(owner, course_id, rounds + 2))
        progress = itertools.cycle(learners)

        def enroll():
            student = next(newcomers)
            return _timed_rollback(app, [(SET_CLAIMS, ("authenticated", claims(student)), False),
                                         ("SELECT enroll_in_course(%s)", (course_id,), True)])

        def bare_enroll():
            return _timed_rollback(owner, [("INSERT INTO bare_enrollments (course_id, user_id, status, payment_status) "
                                            "VALUES (%s, %s, 'pending', 'pending')", (course_id, next(newcomers)), True)])

        def record():
            enrollment, student, lesson = next(progress)
            return _timed_rollback(app, [(SET_CLAIMS, ("authenticated", claims(student)), False),
                                         (COMPLETE_LESSON, (lesson,), True)])

        def bare_record():
            enrollment, student, lesson = next(progress)
            return _timed_rollback(owner, [("INSERT INTO bare_lesson_progress "
                                            "(enrollment_id, lesson_id, user_id, course_id, status) "
                                            "VALUES (%s, %s, %s, %s, 'completed')",
                                            (enrollment, lesson, student, course_id), True)])

        results = []
        for name, a, b in (("enrollment: enroll_in_course() vs bare insert", enroll, bare_enroll),
                           ("lesson_progress: complete_lesson() vs bare insert", record, bare_record)):
            row = summary(*interleaved(a, b, rounds))
            results.append({"name": name, "app_ms": row["app_ms"], "bare_ms": row["owner_ms"],
                            "ratio": row["ratio"], "rounds": row["rounds"]})
        return results
    finally:
        app.close()
        owner.close()


def concurrent_enrollments(urls, course_id, count: int = 50, timeout: float = 300) -> dict:
    """``count`` students enroll in one course at once; the count must rise by exactly ``count``."""
    owner = psycopg2.connect(urls.owner)
    owner.autocommit = True
    students = students_outside(owner, course_id, count)
    enrolled_count = "SELECT enrolled_count FROM courses WHERE id = %s"
    with owner.cursor() as cur:
        cur.execute(enrolled_count, (course_id,))
        before = cur.fetchone()[0]
    connections = [psycopg2.connect(urls.app) for _ in students]
    barrier = threading.Barrier(len(students))
    latencies, errors, lock = [], [], threading.Lock()

    def enroll(conn, student):
        try:
            with conn.cursor() as cur:
                cur.execute(f"SET statement_timeout = {int(timeout * 1000)}")
                barrier.wait(timeout)
                started = time.perf_counter()
                cur.execute(SET_CLAIMS, ("authenticated", claims(student)))
                cur.execute("SELECT enroll_in_course(%s)", (course_id,))
            conn.commit()
            with lock:
                latencies.append(time.perf_counter() - started)
        except Exception as exc:  # reported, not raised: the count check below says what it cost
            conn.rollback()
            with lock:
                errors.append(f"{type(exc).__name__}: {str(exc).splitlines()[0]}")

    started = time.perf_counter()
    threads = [threading.Thread(target=enroll, args=pair) for pair in zip(connections, students)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout + 10)
    wall = time.perf_counter() - started
    for conn in connections:
        conn.close()
    with owner.cursor() as cur:
        cur.execute(enrolled_count, (course_id,))
        after = cur.fetchone()[0]
        verify_started = time.perf_counter()
        cur.execute("SELECT count(*) FROM verify_denormalized_figures()")
        mismatches = cur.fetchone()[0]
        verify_seconds = time.perf_counter() - verify_started
        _remove(cur, course_id, students)
    owner.close()
    return {"enrollments": count, "succeeded": len(latencies), "errors": errors[:5],
            "p50_ms": ms(percentile(latencies, 0.5)), "p95_ms": ms(percentile(latencies, 0.95)),
            "max_ms": ms(max(latencies, default=None)), "wall_ms": ms(wall),
            "enrolled_count_before": before, "enrolled_count_after": after,
            "count_ok": after - before == count, "verify_mismatches": mismatches,
            "verify_seconds": round(verify_seconds, 1)}


def _remove(cur, course_id, students) -> None:
    """Take the test's enrollments out again (their progress goes with them; the figures follow
    through the delete triggers) and the activity they logged."""
    cur.execute("DELETE FROM student_activity WHERE course_id = %s AND student_id = ANY(%s::uuid[])",
                (course_id, [str(s) for s in students]))
    cur.execute("DELETE FROM course_enrollments WHERE course_id = %s AND user_id = ANY(%s::uuid[])",
                (course_id, [str(s) for s in students]))
    cur.execute("""SELECT (SELECT row(c.enrolled_count, c.completed_count) FROM courses c WHERE c.id = %s)
                          IS NOT DISTINCT FROM (SELECT row(f.enrolled_count, f.completed_count)
                                                FROM course_figures(%s) f)""", (course_id, course_id))
    if not cur.fetchone()[0]:
        raise RuntimeError("the course's figures differ from course_figures() after removing the test's enrollments")
