"""The canonical form that signatures cover is exactly RFC 8785 as the rfc8785 library writes it,
whichever way `canonical` takes: a node that wrote it otherwise would sign bytes no peer checks."""

from __future__ import annotations

from typing import Any

import pytest
import rfc8785
from hypothesis import example, given, settings
from hypothesis import strategies as st

from trustbubble.domain.federation import NodeKey, canonical, verify_object, without_provenance
from trustbubble.domain.tlp import RED_RECIPIENTS_EXTENSION_ID

SAFE = 2**53 - 1

# What parsing STIX gives: ASCII keys, strings of any text (escapes, controls, U+2028, emoji),
# integers within and beyond 2**53, booleans, null.
_text = st.text(st.characters(codec="utf-8"), max_size=20)
_stix_scalars = st.one_of(
    st.none(),
    st.booleans(),
    _text,
    st.integers(min_value=-SAFE, max_value=SAFE),
    st.sampled_from([SAFE, -SAFE, 0, -1, 10**15]),
)
stix_like = st.recursive(
    _stix_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.dictionaries(st.text(st.characters(max_codepoint=127), max_size=12), inner, max_size=6),
    ),
    max_leaves=25,
)

# Anything JSON-like, and things that are not: floats, keys beyond ASCII (U+E000 against
# U+1F600 sorts differently by UTF-16 than by code point), lone surrogates, huge integers,
# tuples, non-string keys.
_any_text = st.text(st.characters(), max_size=12)
_scalars = st.one_of(
    _stix_scalars,
    st.floats(),
    st.integers(),
    st.text(st.characters(categories=["Cs"]), min_size=1, max_size=2),
    st.sampled_from(["\ue000", "\U0001f600", "\u2028", "\x7f"]),
)
anything = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.lists(inner, max_size=3).map(tuple),
        st.dictionaries(_any_text, inner, max_size=6),
        st.dictionaries(st.integers(), inner, min_size=1, max_size=2),
    ),
    max_leaves=25,
)


def _nested(depth: int) -> list[Any]:
    value: list[Any] = [1]
    for _ in range(depth):
        value = [value]
    return value


def _outcome(canonicalize: Any, value: Any) -> bytes | type[Exception]:
    """The bytes, or the kind of error (the library lets a surrogate in a key raise its own)."""
    try:
        result: bytes = canonicalize(value)
    except ValueError as error:
        return type(error)
    return result


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(st.characters(max_codepoint=127), max_size=12), stix_like))
@example({"a": '\u2028\x00\x1f\x7f\\"/\U0001f600é', "B": [SAFE, -SAFE, True, None]})
@example({"\x1f": 1, "\x7f": 2, "": {"z": [], "a": {}}})
def test_stix_like_values_canonicalize_as_rfc8785(value: dict[str, Any]) -> None:
    assert canonical(value) == rfc8785.dumps(value)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(_any_text, anything))
@example({"\ue000": 1, "\U0001f600": 2})
@example({"n": 1.0, "big": 1e21, "small": 1e-7, "neg": -0.0})
@example({"n": SAFE + 1})
@example({"s": "\ud800"})
@example({"deep": _nested(70)})  # deeper than `canonical` walks: left to the library
def test_any_value_canonicalizes_or_fails_as_rfc8785(value: dict[str, Any]) -> None:
    assert _outcome(canonical, value) == _outcome(rfc8785.dumps, value)


class _Label(str):
    """A str subclass, as an enum of strings would be: left to the library."""


def test_subclasses_and_other_types_are_left_to_the_library() -> None:
    from enum import Enum

    class Colour(Enum):
        RED = "red"

    assert canonical({"k": _Label("x")}) == rfc8785.dumps({"k": _Label("x")})
    with pytest.raises(rfc8785.CanonicalizationError):
        canonical({"k": Colour.RED})
    with pytest.raises(rfc8785.CanonicalizationError):
        canonical({"k": b"bytes"})


def test_a_signed_indicator_verifies_and_its_canonical_form_is_the_librarys() -> None:
    key = NodeKey.generate()
    indicator = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": "indicator--0b6b2c1e-8f7a-4a7e-9d5c-1f2e3d4c5b6a",
        "created": "2026-11-28T08:00:00.000Z",
        "modified": "2026-11-28T08:00:00.000Z",
        "name": "Beacon to 198.51.100.7 — «C2»",
        "pattern": "[ipv4-addr:value = '198.51.100.7']",
        "pattern_type": "stix",
        "valid_from": "2026-11-28T08:00:00Z",
        "confidence": 80,
        "extensions": {
            RED_RECIPIENTS_EXTENSION_ID: {
                "extension_type": "property-extension",
                "recipients": ["identity--5c3c8a36-4f3e-4d0b-9b7e-2f1d1c0b7a10"],
            }
        },
    }
    signed = key.sign_object(indicator, "identity--5c3c8a36-4f3e-4d0b-9b7e-2f1d1c0b7a10")
    bare = without_provenance(signed)
    assert canonical(bare) == rfc8785.dumps(bare)
    signature = key.sign(rfc8785.dumps(bare))  # Ed25519 is deterministic: the same signature
    assert verify_object(key.public, signed, signature)
    assert not verify_object(key.public, {**signed, "confidence": 81}, signature)
