"""A node's key, id and descriptor, and the signatures objects carry (docs/federation.md)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from pydantic import SecretStr

from trustbubble.domain.errors import Invalid
from trustbubble.domain.federation import (
    PROVENANCE_EXTENSION_ID,
    Descriptor,
    NodeKey,
    canonical,
    node_id_of,
    provenance_of,
    read_key,
    verify_object,
    without_provenance,
)
from trustbubble.services import node_key
from trustbubble.settings import Settings

NOTE = {
    "type": "note",
    "spec_version": "2.1",
    "id": "note--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061",
    "created": "2026-11-28T08:00:00.000Z",
    "modified": "2026-11-28T08:00:00.000Z",
    "content": "Patients diverted — Straße 7, 東京",
    "object_refs": ["indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"],
    "x_score": 1.5,
}
AUTHOR = "identity--f431f809-377b-45e0-aa1c-6a4751cae5ff"


def test_the_key_file_is_made_once_readable_by_its_owner_only(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'db' / 'node.sqlite3'}")
    first = node_key.load(settings)
    path = tmp_path / "db" / "node.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = node_key.load(settings)
    assert again.node_id == first.node_id
    assert first.node_id == node_id_of(read_key(first.public_text))


def test_a_passphrase_protects_the_key_and_a_wrong_one_is_named(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    settings = Settings(node_key=str(path), node_key_passphrase=SecretStr("correct horse"))
    made = node_key.load(settings)
    assert b"ENCRYPTED" in path.read_bytes()
    wrong = Settings(node_key=str(path), node_key_passphrase=SecretStr("wrong horse"))
    with pytest.raises(node_key.NodeKeyError, match="cannot read the node key"):
        node_key.load(wrong)
    assert node_key.load(settings).node_id == made.node_id


def test_without_a_key_file_a_reader_is_told_to_run_db_upgrade(tmp_path: Path) -> None:
    settings = Settings(node_key=str(tmp_path / "absent.key"))
    with pytest.raises(node_key.NodeKeyError, match="db upgrade"):
        node_key.load(settings, create=False)


def test_a_signed_object_verifies_and_any_change_breaks_it() -> None:
    key = NodeKey.generate()
    signed = key.sign_object(NOTE, AUTHOR)
    provenance = provenance_of(signed)
    assert provenance is not None
    assert provenance.origin_node == key.node_id
    assert provenance.author == AUTHOR
    assert without_provenance(signed) == NOTE
    assert verify_object(key.public, signed, provenance.signature)
    # Key order and spacing do not matter (RFC 8785); content does.
    reordered = dict(reversed(list(signed.items())))
    assert verify_object(key.public, reordered, provenance.signature)
    for field, value in (("content", "Patients diverted"), ("x_score", 1.50001)):
        assert not verify_object(key.public, {**signed, field: value}, provenance.signature)
    assert not verify_object(NodeKey.generate().public, signed, provenance.signature)


def test_canonical_json_follows_rfc_8785() -> None:
    assert canonical({"b": 1, "a": [True, None, 1.0, 1e21, "é"]}) == (
        '{"a":[true,null,1,1e+21,"é"],"b":1}'.encode()
    )


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("AAAA", "starts with 'ed25519:'"),
        ("ed25519:not base64!", "not base64"),
        ("ed25519:AAAA", "32 bytes"),
    ],
)
def test_a_bad_public_key_is_named(text: str, says: str) -> None:
    with pytest.raises(Invalid, match=says):
        read_key(text)


def test_a_descriptor_whose_id_is_not_its_keys_is_refused() -> None:
    key, other = NodeKey.generate(), NodeKey.generate()
    good = {"id": key.node_id, "name": "N", "public_key": key.public_text, "taxii": "http://n/"}
    assert Descriptor.read(good).id == key.node_id
    with pytest.raises(Invalid, match="does not belong"):
        Descriptor.read({**good, "id": other.node_id})
    with pytest.raises(Invalid, match=r"descriptor\.taxii"):
        Descriptor.read({**good, "taxii": ""})


def test_a_malformed_provenance_is_named() -> None:
    key = NodeKey.generate()
    signed = key.sign_object(NOTE, AUTHOR)
    broken = dict(signed)
    broken["extensions"] = {
        PROVENANCE_EXTENSION_ID: {**signed["extensions"][PROVENANCE_EXTENSION_ID], "author": "x"}
    }
    with pytest.raises(Invalid, match="author"):
        provenance_of(broken)
