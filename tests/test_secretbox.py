"""Payment details are sealed by the application (portal/secretbox.py) and the
database takes only the envelope (007's CHECK on instructor_settings)."""

from __future__ import annotations

import psycopg2
import pytest

from portal import secretbox
from tests.support import Actor, gen_user

OWNER = "11111111-1111-1111-1111-111111111111"
OTHER = "22222222-2222-2222-2222-222222222222"


@pytest.fixture()
def ring():
    return secretbox.parse_keys(f"k2:{secretbox.new_key()},k1:{secretbox.new_key()}")


def test_an_envelope_opens_to_its_plaintext_and_names_its_key(ring):
    """Sealing then opening gives the details back; the envelope names the sealing key, not the text."""
    envelope = secretbox.seal("DE89 3704 0044 0532 0130 00", OWNER, ring)
    assert envelope.startswith("v1.k2.")
    assert "3704" not in envelope
    assert secretbox.open_envelope(envelope, OWNER, ring) == "DE89 3704 0044 0532 0130 00"


def test_two_seals_of_the_same_text_differ(ring):
    """A fresh nonce each time: equal details are not visible as equal ciphertexts."""
    assert secretbox.seal("acct 1234", OWNER, ring) != secretbox.seal("acct 1234", OWNER, ring)


def test_an_altered_envelope_does_not_open(ring):
    """One changed character of the ciphertext is refused (GCM's tag)."""
    envelope = secretbox.seal("acct 1234", OWNER, ring)
    flipped = envelope[:-2] + ("A" if envelope[-2] != "A" else "B") + envelope[-1]
    with pytest.raises(secretbox.SecretBoxError):
        secretbox.open_envelope(flipped, OWNER, ring)


def test_an_envelope_moved_to_another_row_does_not_open(ring):
    """The row's owner is associated data: a copied ciphertext is useless elsewhere."""
    envelope = secretbox.seal("acct 1234", OWNER, ring)
    with pytest.raises(secretbox.SecretBoxError, match="another row"):
        secretbox.open_envelope(envelope, OTHER, ring)


def test_rotation_opens_old_envelopes_and_seals_with_the_new_key():
    """With a new key first, old envelopes still open and new ones use the new key."""
    old = secretbox.parse_keys(f"k1:{secretbox.new_key()}")
    envelope = secretbox.seal("acct 1234", OWNER, old)
    rotated = secretbox.parse_keys(f"k2:{secretbox.new_key()},k1:{secretbox._b64encode(old['k1'])}")
    assert secretbox.open_envelope(envelope, OWNER, rotated) == "acct 1234"
    assert secretbox.seal("acct 1234", OWNER, rotated).startswith("v1.k2.")
    with pytest.raises(secretbox.SecretBoxError, match="not in PAYMENT_DETAILS_KEYS"):
        secretbox.open_envelope(envelope, OWNER, secretbox.parse_keys(f"k3:{secretbox.new_key()}"))


@pytest.mark.parametrize("value, message", [
    ("", "no key"),
    ("k1:c2hvcnQ", "32 bytes"),
    ("bad id:" + "A" * 43, "key id"),
])
def test_a_bad_key_ring_is_refused_with_the_reason(value, message):
    """A missing, short or badly named key says what is wrong."""
    with pytest.raises(secretbox.SecretBoxError, match=message):
        secretbox.parse_keys(value)


def test_pages_show_at_most_the_last_four_characters():
    """The masked form keeps four characters of the details, never more."""
    assert secretbox.last_four("DE89 3704 0044 0532 0130 00") == "•••• 3000"
    assert secretbox.last_four("") == ""


def test_the_database_takes_an_envelope_and_refuses_plain_text(database, ring):
    """The instructor writes an envelope of their own row; plain text is a CHECK violation."""
    teacher = gen_user(database, "instructor")
    envelope = secretbox.seal("acct 1234", teacher, ring)
    with database.act(Actor.user(teacher)) as cur:
        cur.execute("UPDATE instructor_settings SET payment_details = %s WHERE user_id = %s", (envelope, teacher))
        assert cur.rowcount == 1
    stored = database.value("SELECT payment_details FROM instructor_settings WHERE user_id = %s", (teacher,))
    assert secretbox.open_envelope(stored, teacher, ring) == "acct 1234"
    with pytest.raises(psycopg2.Error) as refused, database.act(Actor.user(teacher)) as cur:
        cur.execute("UPDATE instructor_settings SET payment_details = 'IBAN DE89 3704' WHERE user_id = %s",
                    (teacher,))
    assert refused.value.pgcode == "23514"


@pytest.mark.parametrize("body", ["A" * 41, "A" * 38, "_" * 45])
def test_an_envelope_that_is_not_one_is_refused_as_such(ring, body):
    """A body base64url cannot decode (4n + 1 characters), too short for nonce and tag, or garbage:
    SecretBoxError like every other unusable envelope, never another exception (the settings page and
    ``keys rotate`` catch that one)."""
    with pytest.raises(secretbox.SecretBoxError):
        secretbox.open_envelope(f"v1.k1.{body}", OWNER, ring)


def test_the_database_refuses_a_body_that_cannot_decode(database):
    """011: an envelope body of 4n + 1 characters (no base64url decodes it) is a CHECK violation, written
    by the instructor in raw SQL."""
    teacher = gen_user(database, "instructor")
    with pytest.raises(psycopg2.Error) as refused, database.act(Actor.user(teacher)) as cur:
        cur.execute("UPDATE instructor_settings SET payment_details = %s WHERE user_id = %s",
                    ("v1.k1." + "A" * 41, teacher))
    assert (refused.value.pgcode, refused.value.diag.constraint_name) == ("23514", "payment_details_decode")
