"""Named maintenance: the verifier, the rebuild, the archive, the monthly stats refresh."""

import psycopg2
import pytest

from tests.support import (Actor, complete_course, enroll, gen_course, gen_user, gen_workshop,
                           mismatches, register)


@pytest.fixture()
def world(database):
    """One instructor with a completed paid course, a second enrollment and a workshop seat."""
    teacher = gen_user(database, "instructor")
    course = gen_course(database, teacher, price="20.00")
    first, second = gen_user(database), gen_user(database)
    complete_course(database, first, course)
    enroll(database, second, course.id)
    workshop = gen_workshop(database, teacher)
    register(database, first, workshop)
    return {"teacher": teacher, "course": course, "workshop": workshop}


def test_the_verifier_finds_every_forged_figure_and_the_rebuild_mends_them(database, world):
    """Forged figures on each kind of row are reported, then rebuilt to their true values."""
    assert mismatches(database) == []
    database.rows("UPDATE courses SET enrolled_count = 99, total_revenue = 1 WHERE id = %s",
                  (world["course"].id,))
    database.rows("UPDATE workshops SET enrolled_count = 7 WHERE id = %s", (world["workshop"],))
    database.rows("UPDATE instructor_profiles SET total_students = 42 WHERE user_id = %s", (world["teacher"],))
    # Only the first student's row changes: the second had done nothing yet.
    database.rows("UPDATE student_progress SET completed_lessons = 0, progress_percentage = 0")
    found = mismatches(database)
    assert sorted(m["table_name"] for m in found) == [
        "courses", "instructor_profiles", "student_progress", "workshops"]
    course_row = next(m for m in found if m["table_name"] == "courses")
    assert course_row["stored"]["enrolled_count"] == 99 and course_row["expected"]["enrolled_count"] == 1
    assert database.value("SELECT rebuild_denormalized_figures(%s)", (world["teacher"],)) == 4
    assert mismatches(database) == []
    assert database.value("SELECT enrolled_count FROM courses WHERE id = %s", (world["course"].id,)) == 1


def test_a_missing_progress_row_is_reported_and_recreated(database, world):
    """An enrollment without its student_progress row is a mismatch the rebuild repairs."""
    database.rows("DELETE FROM student_progress WHERE course_id = %s", (world["course"].id,))
    assert [m["stored"] for m in mismatches(database)] == [None, None]
    database.value("SELECT rebuild_denormalized_figures()")
    assert mismatches(database) == []
    assert database.value("SELECT count(*) FROM student_progress") == 2


def test_rebuild_of_consistent_data_changes_nothing(database, world):
    """Rebuilding clean figures corrects no row."""
    assert database.value("SELECT rebuild_denormalized_figures()") == 0


def test_archive_moves_only_old_activity(database, world):
    """Activity older than the age leaves the timeline for the archive; the rest stays."""
    total = database.value("SELECT count(*) FROM student_activity")
    database.rows("UPDATE student_activity SET occurred_at = now() - interval '400 days' "
                  "WHERE activity_type = 'lesson_started'")
    old = database.value("SELECT count(*) FROM student_activity WHERE occurred_at < now() - interval '1 year'")
    assert old == len(world["course"].lessons)
    assert database.value("SELECT archive_student_activity(interval '1 year')") == old
    assert database.value("SELECT count(*) FROM student_activity") == total - old
    assert database.value("SELECT count(*) FROM private.student_activity_archive") == old


def test_monthly_stats_refresh_concurrently(database, world):
    """The materialized view refreshes without blocking readers and holds this month's figures."""
    database.value("SELECT refresh_instructor_monthly_stats()")
    row = database.rows("SELECT * FROM instructor_monthly_stats WHERE instructor_id = %s",
                        (world["teacher"],))
    assert len(row) == 1
    assert (row[0]["new_enrollments"], row[0]["completions"], str(row[0]["gross_revenue"])) == (2, 1, "20.00")


@pytest.mark.parametrize("call", [
    "SELECT rebuild_denormalized_figures()",
    "SELECT * FROM verify_denormalized_figures()",
    "SELECT archive_student_activity(interval '1 day')",
    "SELECT refresh_instructor_monthly_stats()",
    "SELECT * FROM instructor_monthly_stats",
])
def test_maintenance_is_not_for_the_api_roles(database, world, call):
    """Even a platform admin's request cannot run maintenance."""
    admin = gen_user(database, "admin")
    with database.attempt(Actor.user(admin)) as cur, pytest.raises(psycopg2.errors.InsufficientPrivilege):
        cur.execute(call)
