"""Rows written straight into tables (the demo loader, the tests' factories) are built from the
models (portal/seed.py): a table's columns are spelled once, in portal/models.py."""

from __future__ import annotations

import re
from pathlib import Path

from portal import models, seed

ROOT = Path(__file__).resolve().parents[1]
# What no model describes: the private schema's credentials, and one upsert of progress the
# tests set to an exact state.
ALLOWED = {"private.user_credentials", "lesson_progress"}


def test_the_demo_loader_and_the_factories_write_no_table_by_hand():
    for path in (ROOT / "portal" / "demo.py", ROOT / "tests" / "support.py"):
        tables = set(re.findall(r"INSERT INTO ([a-z_.]+)", path.read_text()))
        assert tables - ALLOWED == set(), f"{path.name}: use portal.seed with the model instead"


def test_seed_inserts_through_the_callers_cursor_and_returns_the_key(database):
    with database.owner.cursor() as cur:
        org = seed.insert(cur, models.Organization, name="Seeded Org", slug="seeded-org")
        user = seed.insert(cur, models.User, email="seeded@example.test", full_name="Seeded Person",
                           role="instructor", organization=org)
        course = seed.insert(cur, models.Course, title="Seeded", slug="seeded", instructor=user,
                             tags=["a", "b"], status="draft")
        module = seed.insert(cur, models.CourseModule, course=course, title="One", position=0)
        rows = seed.insert_many(cur, models.CourseLesson,
                                [{"module": module, "course": course, "title": f"L{n}", "position": n,
                                  "content_type": "quiz", "passing_score": 50,
                                  "quiz": {"questions": [{"prompt": "?", "choices": ["a", "b"], "answer": 0}]}}
                                 for n in range(2)],
                                models.CourseLesson.position, models.CourseLesson.id)
    assert [position for position, _ in rows] == [0, 1]
    assert database.rows("SELECT u.organization_id, c.tags, l.quiz -> 'questions' -> 0 ->> 'prompt' AS prompt "
                         "FROM users u JOIN courses c ON c.instructor_id = u.id "
                         "JOIN course_lessons l ON l.course_id = c.id WHERE u.id = %s ORDER BY l.position",
                         (user,)) == [{"organization_id": org, "tags": ["a", "b"], "prompt": "?"}] * 2
