"""Password rules after NIST SP 800-63B: length, any characters, the breached list shipped with the
package, the account's own name; no composition rules; NFKC before hashing and checking."""

from __future__ import annotations

import pytest

from trustbubble.domain import passwords
from trustbubble.domain.accounts import UserRole
from trustbubble.domain.errors import Invalid
from trustbubble.services import accounts, secrets
from trustbubble.services.accounts import Authenticator
from trustbubble.store import accounts as account_store
from trustbubble.store.database import Database


@pytest.mark.parametrize(
    "password",
    [
        "twelve chars",  # exactly the minimum, spaces and no digit or capital
        "correct horse battery staple",
        "алмаз-сапфир-рубин",  # Cyrillic
        "東京タワーで会いましょう。",  # CJK, 13 characters
        "🦊🦊 fox in the snow 🦊",
        "x" * 3 + "y" * 3 + "tail of the password",
        ("the quick brown fox jumps over the lazy dog " * 6)[:256],  # the longest taken
    ],
)
def test_long_passwords_of_any_characters_are_taken_without_composition_rules(
    password: str,
) -> None:
    passwords.check(password, "analyst@cert.test")


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("elevenchars", "at least 12 characters (this has 11)"),
        ("x" * 257, "at most 256 characters (this has 257)"),
        ("Password1234", "published after data breaches"),
        ("QWERTYUIOP123", "published after data breaches"),
        ("iloveyou1234", "published after data breaches"),
        ("1qaz2wsx3edc", "published after data breaches"),
        ("my trustbubble password", "must not contain 'trustbubble'"),
        ("My TrustBubble password", "must not contain 'trustbubble'"),
        ("jean.dupont is my name", "must not contain 'jean.dupont'"),
        ("dupont forever and ever", "must not contain 'dupont'"),
        ("abcabcabcabc", "repeated"),
        ("zzzzzzzzzzzzzzzz", "repeated"),
        ("abcdefghijklm", "a run such as"),
        ("123456789012", "a run such as"),
        ("987654321098", "a run such as"),
    ],
)
def test_a_refused_password_is_told_which_rule_it_breaks(password: str, rule: str) -> None:
    with pytest.raises(Invalid) as refused:
        passwords.check(password, "jean.dupont@cert.test")
    assert refused.value.field == "password"
    assert rule in refused.value.reason


def test_the_breached_list_ships_with_the_package_and_is_read_once() -> None:
    listed = passwords.breached()
    assert passwords.breached() is listed
    assert len(listed) > 200_000
    assert all(len(entry) >= passwords.MIN_LENGTH for entry in list(listed)[:1000])
    assert "password1234" in listed
    assert "correct horse battery staple" not in listed


def test_a_short_local_part_is_no_context_word() -> None:
    # "a" would refuse every password with an "a" in it.
    assert passwords.context_words("a@cert.test") == ["trustbubble"]
    passwords.check("a long and plain password", "a@cert.test")


def test_a_password_is_the_same_typed_composed_decomposed_or_full_width(db: Database) -> None:
    accounts.create_org(db, "CERT FR", "cert", "FR")
    composed = "caf\u00e9 au lait très chaud"
    decomposed = "cafe\u0301 au lait tre\u0300s chaud"
    accounts.create_user(db, "a@cert.test", "CERT FR", UserRole.ANALYST, composed)
    auth = Authenticator(db)
    assert auth.password("a@cert.test", decomposed, method="basic").email == "a@cert.test"
    full_width = "ＦＵＬＬ ｗｉｄｔｈ ｗｏｒｄｓ"
    accounts.create_user(db, "b@cert.test", "CERT FR", UserRole.ANALYST, full_width)
    assert auth.password("b@cert.test", "FULL width words", method="basic").email == "b@cert.test"


def test_a_hash_stored_before_normalization_still_matches(db: Database) -> None:
    accounts.create_org(db, "CERT FR", "cert", "FR")
    user, _ = accounts.create_user(db, "a@cert.test", "CERT FR", UserRole.ANALYST)
    typed = "ﬁve ligatures ﬁt here"  # NFKC turns the ligature into "fi"
    legacy = secrets._hasher.hash(typed)  # as hashed before passwords were normalized
    with db.write() as conn:
        account_store.set_password_hash(conn, user.id, legacy)
    assert secrets.verify_password(legacy, typed)
    assert Authenticator(db).password("a@cert.test", typed, method="basic").id == user.id
    assert not secrets.verify_password(legacy, "five ligatures fit here!")


def test_every_path_that_sets_a_password_applies_the_rules(db: Database) -> None:
    accounts.create_org(db, "CERT FR", "cert", "FR")
    with pytest.raises(Invalid, match="data breaches"):
        accounts.create_user(db, "a@cert.test", "CERT FR", UserRole.ANALYST, "Password1234")
    user, generated = accounts.create_user(db, "a@cert.test", "CERT FR", UserRole.ANALYST)
    passwords.check(generated, user.email)
    with pytest.raises(Invalid, match="at least 12"):
        accounts.set_password(db, "a@cert.test", "too short")
    auth = Authenticator(db)
    with pytest.raises(Invalid, match="must not contain 'trustbubble'"):
        accounts.change_password(db, auth, user, generated, "trustbubble is home", None)
    with pytest.raises(Invalid, match="current: is not your password"):
        accounts.change_password(db, auth, user, "not my password", "a fine new password", None)
    with pytest.raises(Invalid, match="must differ"):
        accounts.change_password(db, auth, user, generated, generated, None)
    accounts.change_password(db, auth, user, generated, "a fine new password", None)
    assert auth.password("a@cert.test", "a fine new password", method="basic").id == user.id
