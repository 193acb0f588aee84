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


# --- the CLI at scale: instructor by instructor, in short transactions ---------------------

# What 008 brings (verify for one instructor), for a database that does not have it yet: the
# whole verification narrowed to the rows of one instructor.
VERIFY_ONE = """
CREATE FUNCTION public.verify_denormalized_figures(p_instructor_id uuid)
RETURNS TABLE (table_name text, row_id uuid, stored jsonb, expected jsonb)
LANGUAGE sql STABLE SET search_path = pg_catalog, public AS $$
    SELECT v.* FROM public.verify_denormalized_figures() v
    WHERE p_instructor_id = CASE v.table_name
        WHEN 'courses' THEN (SELECT instructor_id FROM courses WHERE id = v.row_id)
        WHEN 'workshops' THEN (SELECT instructor_id FROM workshops WHERE id = v.row_id)
        WHEN 'instructor_profiles' THEN v.row_id
        WHEN 'student_progress' THEN (SELECT c.instructor_id FROM course_enrollments e
                                      JOIN courses c ON c.id = e.course_id WHERE e.id = v.row_id)
        WHEN 'course_reviews' THEN (SELECT c.instructor_id FROM course_reviews r
                                    JOIN courses c ON c.id = r.course_id WHERE r.id = v.row_id)
    END
$$"""


@pytest.fixture()
def cli(database, world, monkeypatch):
    """The maintenance CLI on this database, its progress recorded: each step's instructor, and
    whether the CLI's connection sat in an open transaction when the step began."""
    from click.testing import CliRunner

    from portal import cli as portal_cli

    monkeypatch.setenv("DATABASE_URL", database.app_dsn)
    monkeypatch.setenv("MIGRATION_DATABASE_URL", database.owner_dsn)
    steps = []

    def recorded(items, what):
        for item in items:
            open_transactions = database.value(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND usename = current_user AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%%'")
            steps.append((what, str(item), open_transactions))
            yield item

    monkeypatch.setattr(portal_cli, "progress", recorded)
    runner = CliRunner()
    return lambda *args: runner.invoke(portal_cli.main, ["db", *args]), steps


def test_verify_and_rebuild_go_instructor_by_instructor(database, world, cli):
    """With verify_denormalized_figures(uuid), verify and rebuild take each instructor in turn, in
    a transaction of its own (none is open between two), and find and mend every forged figure."""
    run, steps = cli
    other = gen_user(database, "instructor")
    gen_course(database, other)
    database.rows("UPDATE courses SET enrolled_count = 99 WHERE id = %s", (world["course"].id,))
    database.rows("UPDATE instructor_profiles SET total_courses = 7 WHERE user_id = %s", (other,))
    if database.value("SELECT to_regprocedure('public.verify_denormalized_figures(uuid)') IS NULL"):
        database.rows(VERIFY_ONE)
    instructors = sorted(str(i) for i in (world["teacher"], other))

    verify = run("verify")
    assert verify.exit_code == 1 and verify.output.endswith("2 mismatch(es)\n"), verify.output
    assert f"courses {world['course'].id}: stored" in verify.output
    assert f"instructor_profiles {other}: stored" in verify.output
    rebuild = run("rebuild")
    assert rebuild.output == "2 row(s) corrected\n"
    assert run("verify").exit_code == 0
    assert [(what, who) for what, who, _ in steps] == [
        *[("verifying", i) for i in instructors], *[("rebuilding", i) for i in instructors],
        *[("verifying", i) for i in instructors]]
    assert [open_ for _, _, open_ in steps] == [0] * len(steps)


def test_verify_finds_a_forged_open_report_figure(database, world, cli):
    """016's kept open-report figures on a review are verified too: a forged count is reported."""
    run, _ = cli
    student = gen_user(database, "student")
    complete_course(database, student, world["course"])
    with database.act(Actor.user(student)) as cur:
        cur.execute("INSERT INTO course_reviews (course_id, user_id, rating) VALUES (%s, %s, 4) RETURNING id",
                    (world["course"].id, student))
        review = cur.fetchone()["id"]
    assert run("verify").exit_code == 0
    database.rows("UPDATE course_reviews SET open_report_count = 2, first_open_report_at = now() WHERE id = %s",
                  (review,))
    verify = run("verify")
    assert verify.exit_code == 1 and f"course_reviews {review}: stored" in verify.output, verify.output
    assert verify.output.endswith("1 mismatch(es)\n")


def test_rebuild_of_one_instructor_touches_no_other(database, world, cli):
    """rebuild --instructor ID mends that instructor's figures and leaves another's as they are."""
    run, steps = cli
    other = gen_user(database, "instructor")
    database.rows("UPDATE instructor_profiles SET total_courses = 7 WHERE user_id IN (%s, %s)",
                  (world["teacher"], other))
    assert run("rebuild", "--instructor", str(other)).output == "1 row(s) corrected\n"
    assert [who for _, who, _ in steps] == [str(other)]
    assert database.value("SELECT total_courses FROM instructor_profiles WHERE user_id = %s",
                          (world["teacher"],)) == 7
    assert run("rebuild", "--instructor", "not-a-uuid").exit_code == 2


def test_forged_completions_of_lessons_and_modules_are_found_and_mended(database, world):
    """The insight page's kept completions (008) are verified and rebuilt like every other figure."""
    lesson = world["course"].lessons[0]
    database.rows("UPDATE course_lessons SET completed_count = 5 WHERE id = %s", (lesson,))
    database.rows("UPDATE course_modules SET completed_count = 9 WHERE course_id = %s", (world["course"].id,))
    found = {m["table_name"]: m for m in mismatches(database)}
    assert set(found) == {"course_lessons", "course_modules"}
    assert found["course_lessons"]["expected"]["completed_count"] == 1   # the first student completed it
    assert found["course_modules"]["expected"]["completed_count"] == 1
    assert database.value("SELECT rebuild_denormalized_figures(%s)", (world["teacher"],)) == 2
    assert mismatches(database) == []
