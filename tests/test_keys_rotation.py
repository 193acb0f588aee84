"""Rotating the keys that seal instructors' payment details (``python -m portal keys``, issue 18):
``keys new`` prints a key line; ``keys rotate`` re-seals, as the owner and in batches, every
envelope not under the first key of PAYMENT_DETAILS_KEYS, each opened with its own key; a row
whose key is not in the ring is reported, left as it is, and the command exits 1."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from portal import cli as portal_cli
from portal import secretbox
from tests.support import gen_user

KEY_A, KEY_B, KEY_C = (f"{name}:{secretbox.new_key()}" for name in ("A", "B", "C"))
DETAILS = ("payouts@example.com", "DE89370400440532013000", "acct_9Zy8Xw7Vu6", "GB29NWBK60161331926819",
           "teacher@example.org")


def ring(*lines: str) -> dict[str, bytes]:
    return secretbox.parse_keys(",".join(lines))


@pytest.fixture()
def keys(database, monkeypatch):
    """Run ``keys ...`` on this database with the key ring ``lines`` (PAYMENT_DETAILS_KEYS)."""
    monkeypatch.setenv("DATABASE_URL", database.app_dsn)
    monkeypatch.setenv("MIGRATION_DATABASE_URL", database.owner_dsn)
    monkeypatch.delenv("PORTAL_ENV", raising=False)
    runner = CliRunner()

    def run(*args, lines=()):
        if lines:
            monkeypatch.setenv("PAYMENT_DETAILS_KEYS", ",".join(lines))
        return runner.invoke(portal_cli.main, ["keys", *args])
    return run


def sealed_rows(database, lines, details=DETAILS) -> dict:
    """Instructors whose details are sealed under the first key of ``lines``: {user id: plain text}."""
    made = {}
    for plain in details:
        user = gen_user(database, "instructor")
        database.value("UPDATE instructor_settings SET payment_method = 'paypal', payment_details = %s "
                       "WHERE user_id = %s RETURNING 1", (secretbox.seal(plain, user, ring(*lines)), user))
        made[user] = plain
    return made


def stored(database) -> dict:
    return {row["user_id"]: row["payment_details"] for row in database.rows(
        "SELECT user_id, payment_details FROM instructor_settings WHERE payment_details IS NOT NULL")}


def test_keys_new_prints_a_key_line_the_ring_accepts(keys):
    """``keys new``: <id>:<base64url of 32 bytes>, the id given or k<date>; a bad id is refused."""
    line = keys("new").output.strip()
    assert re.fullmatch(r"k\d{8}:[A-Za-z0-9_-]{43}", line)
    named = keys("new", "--id", "2027-spring").output.strip()
    assert named.startswith("2027-spring:") and list(ring(named, line)) == ["2027-spring", line.split(":")[0]]
    assert keys("new").output.strip().split(":")[1] != line.split(":")[1], "a fresh key each time"
    assert keys("new", "--id", "no.dots").exit_code == 2


def test_rotation_round_trip(database, keys):
    """Rows sealed under A; the ring "B,A": rotate re-seals them all under B (in batches), each opening
    to the same plain text; a second run finds them current; then the ring "B" alone opens every row."""
    rows = sealed_rows(database, [KEY_A])
    before = stored(database)
    assert all(value.startswith("v1.A.") for value in before.values())

    result = keys("rotate", "--batch", "2", lines=[KEY_B, KEY_A])
    assert result.exit_code == 0, result.output
    assert result.output == f"{len(rows)} row(s) re-sealed under key 'B', 0 already current\n"
    after = stored(database)
    assert set(after) == set(rows) and all(value.startswith("v1.B.") for value in after.values())
    assert all(after[user] != before[user] for user in rows)
    for value in after.values():
        assert not any(plain in value for plain in DETAILS)

    again = keys("rotate", lines=[KEY_B, KEY_A])
    assert again.exit_code == 0 and again.output == f"0 row(s) re-sealed under key 'B', {len(rows)} already current\n"
    assert stored(database) == after

    only_b = ring(KEY_B)
    assert {user: secretbox.open_envelope(value, user, only_b) for user, value in stored(database).items()} == rows


def test_a_row_under_an_unknown_key_is_reported_and_left(database, keys):
    """A row sealed under C, which the ring does not hold: named in the report, untouched, exit 1;
    the other rows are re-sealed all the same."""
    rows = sealed_rows(database, [KEY_A], DETAILS[:3])
    (lost,) = sealed_rows(database, [KEY_C], DETAILS[3:4])
    lost_before = stored(database)[lost]

    result = keys("rotate", "--batch", "1", lines=[KEY_B, KEY_A])
    assert result.exit_code == 1
    assert f"instructor {lost}: not re-sealed: key 'C' is not in PAYMENT_DETAILS_KEYS" in result.output
    assert "3 row(s) re-sealed under key 'B', 0 already current, 1 could not be opened (left as they were)" \
        in result.output
    after = stored(database)
    assert after[lost] == lost_before
    assert {user: secretbox.open_envelope(after[user], user, ring(KEY_B)) for user in rows} == rows


def test_an_altered_envelope_is_reported_not_replaced(database, keys):
    """An envelope that does not open under its own key (altered, or copied from another row) is
    reported and left; nothing seals over it."""
    (user,) = sealed_rows(database, [KEY_A], DETAILS[:1])
    (other,) = sealed_rows(database, [KEY_A], DETAILS[1:2])
    database.value("UPDATE instructor_settings SET payment_details = (SELECT payment_details FROM "
                   "instructor_settings WHERE user_id = %s) WHERE user_id = %s RETURNING 1", (other, user))
    copied = stored(database)[user]
    result = keys("rotate", lines=[KEY_B, KEY_A])
    assert result.exit_code == 1 and f"instructor {user}: not re-sealed: the envelope was altered" in result.output
    assert stored(database)[user] == copied and stored(database)[other].startswith("v1.B.")


def test_a_ring_that_cannot_be_read_is_refused(database, keys):
    """A malformed PAYMENT_DETAILS_KEYS: a message, no change."""
    sealed_rows(database, [KEY_A], DETAILS[:1])
    before = stored(database)
    result = keys("rotate", lines=["B:c2hvcnQ"])
    assert result.exit_code == 1 and "PAYMENT_DETAILS_KEYS: key 'B' must be 32 bytes" in result.output
    assert stored(database) == before


def test_an_envelope_that_is_no_envelope_is_reported_and_the_rest_resealed(database, keys):
    """A row holding garbage of an envelope's shape (written past the app, in raw SQL) is reported and
    left; the rotation goes on with every other row (one instructor cannot stop it for all)."""
    rows = sealed_rows(database, [KEY_A], DETAILS[:2])
    (odd,) = sealed_rows(database, [KEY_A], DETAILS[2:3])
    database.value("UPDATE instructor_settings SET payment_details = %s WHERE user_id = %s RETURNING 1",
                   ("v1.A." + "A" * 42, odd))
    result = keys("rotate", "--batch", "1", lines=[KEY_B, KEY_A])
    assert result.exit_code == 1 and f"instructor {odd}: not re-sealed" in result.output
    assert "2 row(s) re-sealed under key 'B'" in result.output
    after = stored(database)
    assert after[odd] == "v1.A." + "A" * 42
    assert {user: secretbox.open_envelope(after[user], user, ring(KEY_B)) for user in rows} == rows
