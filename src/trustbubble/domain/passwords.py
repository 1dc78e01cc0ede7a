"""Password rules after NIST SP 800-63B, section 3.1.1.2: long enough, any characters, not
breached, not built from the account's own name; no composition rules and no expiry."""

from __future__ import annotations

import functools
import itertools
import lzma
import re
import unicodedata
from importlib import resources

from trustbubble.domain.errors import Invalid

# NIST asks for at least 8 characters; the node has asked for 12 from the start.
MIN_LENGTH = 12
# NIST asks verifiers to allow at least 64; a passphrase of 256 costs argon2 nothing more.
MAX_LENGTH = 256
# Words a password of this node must not contain, besides the account's own name.
SERVICE_WORDS = ("trustbubble",)
BREACHED_LIST = "breached_passwords.txt.xz"

_REPEATED = re.compile(r"(.{1,4})\1+", re.DOTALL)
_DIGITS = "0123456789"


def normalize(password: str) -> str:
    """What is hashed and verified: NFKC, so a password typed on another keyboard or system (a
    composed or decomposed accent, a full-width digit) is the same password."""
    return unicodedata.normalize("NFKC", password)


def comparable(password: str) -> str:
    """The form compared with the breached list and the context words: normalized, case-folded."""
    return normalize(password).casefold()


def check(password: str, email: str | None = None) -> None:
    """Refuse a new password with an error naming the rule it breaks."""
    text = normalize(password)
    length = len(text)
    if length < MIN_LENGTH:
        raise Invalid("password", f"must be at least {MIN_LENGTH} characters (this has {length})")
    if length > MAX_LENGTH:
        raise Invalid("password", f"must be at most {MAX_LENGTH} characters (this has {length})")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise Invalid("password", "must be text: it holds an unpaired surrogate") from None
    folded = text.casefold()
    if _REPEATED.fullmatch(folded) or _sequential(folded):
        raise Invalid(
            "password",
            "must not be a character or a short group repeated, nor a run such as "
            "abcdefghijkl or 123456789012",
        )
    for word in context_words(email):
        if word in folded:
            raise Invalid(
                "password", f"must not contain {word!r}, the account's or the node's name"
            )
    if folded in breached():
        raise Invalid(
            "password",
            "is on a list of passwords published after data breaches, which attackers try "
            "first; choose another (a few unrelated words make a good one)",
        )


def context_words(email: str | None) -> list[str]:
    """The service's name, and the e-mail address's local part and its longer pieces."""
    words = list(SERVICE_WORDS)
    if email and "@" in email:
        local = comparable(email.rpartition("@")[0])
        if len(local) >= 3:
            words.append(local)
        words += [piece for piece in re.split(r"[._+-]", local) if len(piece) >= 4]
    return list(dict.fromkeys(words))


@functools.cache
def breached() -> frozenset[str]:
    """The breached passwords shipped with the package (see VENDORED.md), read once."""
    packed = resources.files("trustbubble.domain").joinpath(BREACHED_LIST).read_bytes()
    return frozenset(lzma.decompress(packed).decode("utf-8").split("\n")) - {""}


def _sequential(text: str) -> bool:
    steps = {_step(a, b) for a, b in itertools.pairwise(text)}
    return steps in ({1}, {-1})


def _step(a: str, b: str) -> int:
    if a in _DIGITS and b in _DIGITS:
        return (int(b) - int(a) + 5) % 10 - 5  # 9 then 0 counts as a step up
    return ord(b) - ord(a)
