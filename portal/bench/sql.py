"""Small SQL builders shared by the generator's statements.

Ids are made from numbers, not drawn at random: ``uid('enrollment', 'e')``
is the uuid ``00000020-0000-4000-8000-<e in hex>``, so a statement can name
the enrollment, lesson or student it points at by arithmetic alone (no
join), the same size always gives the same ids, and primary keys are
appended in order instead of scattered over the index (which is what makes
a 5M-row load take minutes rather than tens of minutes). They are valid
version-4-shaped uuids; nothing in the portal reads meaning into an id.

Pseudo-random choices come from ``hashint8`` of a row's number and a salt:
deterministic, set-based, and the same in every session (``random()``
with ``setseed`` is neither once a plan goes parallel).
"""

from __future__ import annotations

KINDS = {
    "organization": 0x01, "staff": 0x02, "instructor": 0x03, "student": 0x04,
    "course": 0x10, "module": 0x11, "lesson": 0x12, "co_teacher": 0x13,
    "enrollment": 0x20, "lesson_progress": 0x21, "progress": 0x22, "unlock": 0x23, "certificate": 0x24,
    "sale": 0x30, "refund": 0x31, "workshop_sale": 0x32,
    "review": 0x40,
    "workshop": 0x50, "registration": 0x51, "feedback": 0x52,
    # One kind per activity type, so each source row logs its event under its own number.
    "act_enrolled": 0x60, "act_lesson_started": 0x61, "act_lesson_completed": 0x62, "act_quiz": 0x63,
    "act_course_completed": 0x64, "act_cancelled": 0x65, "act_refunded": 0x66, "act_review": 0x67,
    "act_registered": 0x68, "act_attended": 0x69, "act_workshop_cancelled": 0x6a, "act_feedback": 0x6b,
    "notice_enrolled": 0x70,
    # 022: discussions and hand-ins, and the hand-ins' activity
    "comment": 0x80, "comment_reply": 0x81, "question": 0x82, "answer": 0x83, "submission": 0x84,
    "report": 0x85, "act_submitted": 0x6c, "act_graded": 0x6d,
}


def uid(kind: str, number: str) -> str:
    """SQL for the id of the ``kind`` row numbered by the SQL expression ``number``."""
    return f"('{KINDS[kind]:08x}-0000-4000-8000-' || lpad(to_hex(({number})::bigint), 12, '0'))::uuid"


def rekind(kind: str, uuid_sql: str) -> str:
    """SQL for the id of kind ``kind`` with the same number as the bench id ``uuid_sql``."""
    return f"('{KINDS[kind]:08x}' || substr(({uuid_sql})::text, 9))::uuid"


def rnd(number: str, salt: int, modulo: int) -> str:
    """SQL for a deterministic pseudo-random integer in [0, modulo) for row ``number``."""
    return f"((hashint8(({number})::bigint * 1000003 + {salt})::bigint + 2147483648) % {modulo})"


def pick(options: list[str], index: str) -> str:
    """SQL for ``options[index % len(options)]`` (text literals)."""
    quoted = ", ".join("'" + o.replace("'", "''") + "'" for o in options)
    return f"(ARRAY[{quoted}])[1 + (({index}) % {len(options)})]"
