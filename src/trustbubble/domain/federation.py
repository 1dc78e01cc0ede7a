"""Federation's pure rules: node keys and ids, the provenance extension, signing and checking.

See docs/federation.md. An object that crosses to another node carries, in a property extension,
the node it was written on, the identity of the organization that wrote it and the origin node's
Ed25519 signature over the object's canonical JSON (RFC 8785) without that extension.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
import rfc8785
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from trustbubble.domain.errors import Invalid

PROVENANCE_EXTENSION_ID = "extension-definition--8c5c1a8d-4b2e-4f0a-9d63-5e7b1c2a9f41"
KEY_PREFIX = "ed25519:"
NODE_PREFIX = "node--"


def node_id_of(public_key: Ed25519PublicKey) -> str:
    """`node--` and a UUID made from the SHA-256 of the raw public key."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return NODE_PREFIX + str(uuid.UUID(bytes=hashlib.sha256(raw).digest()[:16], version=4))


def key_text(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return KEY_PREFIX + base64.b64encode(raw).decode()


def read_key(text: str, field: str = "key") -> Ed25519PublicKey:
    """A public key as `ed25519:BASE64` (32 bytes), with an error naming what is wrong."""
    value = text.strip()
    if not value.startswith(KEY_PREFIX):
        raise Invalid(field, f"a node key starts with {KEY_PREFIX!r}, as `node show` prints it")
    try:
        raw = base64.b64decode(value.removeprefix(KEY_PREFIX), validate=True)
    except ValueError:  # binascii.Error, and text beyond ASCII (b64decode's ValueError)
        raise Invalid(field, "the key after 'ed25519:' is not base64") from None
    if len(raw) != 32:
        raise Invalid(field, f"an Ed25519 public key has 32 bytes, this one {len(raw)}")
    return Ed25519PublicKey.from_public_bytes(raw)


@dataclass(frozen=True, slots=True)
class Descriptor:
    """What a node says of itself at /federation/v1/node."""

    id: str
    name: str
    country: str | None
    public_key: str
    taxii: str

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "country": self.country,
            "public_key": self.public_key,
            "taxii": self.taxii,
        }

    @classmethod
    def read(cls, data: Any) -> Descriptor:
        if not isinstance(data, dict):
            raise Invalid("descriptor", "the peer's descriptor is not a JSON object")
        for name in ("id", "name", "public_key", "taxii"):
            if not isinstance(data.get(name), str) or not data[name]:
                raise Invalid(f"descriptor.{name}", "missing from the peer's descriptor")
        key = read_key(data["public_key"], "descriptor.public_key")
        if node_id_of(key) != data["id"]:
            raise Invalid("descriptor.id", "the node id does not belong to the node's key")
        country = data.get("country")
        return cls(
            data["id"],
            data["name"],
            country if isinstance(country, str) else None,
            data["public_key"],
            data["taxii"],
        )


@dataclass(frozen=True, slots=True)
class Provenance:
    origin_node: str
    author: str  # the identity id of the organization that wrote the object
    signature: bytes


class NodeKey:
    """The node's private key: signs objects and deletions."""

    def __init__(self, private: Ed25519PrivateKey) -> None:
        self._private = private
        # Signing by libsodium: the same signatures (Ed25519 is deterministic), in half the
        # time of OpenSSL's here (docs/benchmarks.md, Federation sync).
        self._signer = SigningKey(
            private.private_bytes(
                serialization.Encoding.Raw,
                serialization.PrivateFormat.Raw,
                serialization.NoEncryption(),
            )
        )
        self.public = private.public_key()
        self.node_id = node_id_of(self.public)
        self.public_text = key_text(self.public)

    @classmethod
    def generate(cls) -> NodeKey:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_pem(cls, pem: bytes, passphrase: bytes | None = None) -> NodeKey:
        private = serialization.load_pem_private_key(pem, passphrase)
        if not isinstance(private, Ed25519PrivateKey):
            raise ValueError("the node key file does not hold an Ed25519 private key")
        return cls(private)

    def to_pem(self, passphrase: bytes | None = None) -> bytes:
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(passphrase)
            if passphrase
            else serialization.NoEncryption()
        )
        return self._private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )

    def secret_for(self, purpose: str) -> bytes:
        """A 32-byte secret derived from the private key for one purpose (never the key)."""
        raw = self._private.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        return hashlib.sha256(b"trustbubble/" + purpose.encode() + b"\0" + raw).digest()

    def sign(self, data: bytes) -> bytes:
        return self._signer.sign(data).signature

    def sign_object(self, obj: Mapping[str, Any], author: str) -> dict[str, Any]:
        """The object with our provenance extension: this node's signature over the rest."""
        bare = without_provenance(obj)
        signature = self.sign(canonical(bare))
        return with_provenance(bare, Provenance(self.node_id, author, signature))


def canonical(obj: Mapping[str, Any]) -> bytes:
    """RFC 8785 JSON Canonicalization Scheme, byte for byte as the `rfc8785` library writes it.

    What parsing STIX gives (objects with ASCII keys, arrays, strings, integers within 2**53,
    booleans, null) is written by orjson with sorted keys: for those values its output is the
    canonical form (no whitespace; strings escaped as RFC 8785 3.2.2.2 asks, the rest raw UTF-8;
    ASCII keys sort the same by UTF-16 code unit as by code point). With the walk that checks the
    value, that is about 9 times faster than the library (3.5 against 33 µs for an indicator),
    the first cost of signing and checking a page (docs/benchmarks.md, Federation sync). Anything
    else (a float, a key beyond ASCII, a lone surrogate, another type) is left to the library.
    """
    if _plain(obj, 0):
        try:
            return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)
        except orjson.JSONEncodeError:
            pass  # a lone surrogate: the library says what is wrong
    return rfc8785.dumps(obj)


_SAFE_INTEGER = 2**53 - 1  # RFC 8785 3.2.2.3: JSON numbers are IEEE 754 doubles
_MAX_DEPTH = 64  # deeper values are rare and left to the library


def _plain(value: object, depth: int) -> bool:
    """Is this a value orjson writes in canonical form? Exact types only: a subclass of str or
    int (an enum) or of dict may be written otherwise by one of the two."""
    items: Iterable[object]
    if type(value) is dict:
        for key in value:
            if type(key) is not str or not key.isascii():
                return False
        items = value.values()
    elif type(value) is list:
        items = value
    else:
        return False
    if depth > _MAX_DEPTH:
        return False
    for item in items:
        kind = type(item)
        if kind is str or kind is bool or item is None:
            continue
        if kind is int:
            if -_SAFE_INTEGER <= item <= _SAFE_INTEGER:
                continue
            return False
        if not _plain(item, depth + 1):
            return False
    return True


def without_provenance(obj: Mapping[str, Any]) -> dict[str, Any]:
    """The object as its origin signed it: without our provenance extension."""
    bare = dict(obj)
    extensions = bare.get("extensions")
    if isinstance(extensions, dict) and PROVENANCE_EXTENSION_ID in extensions:
        rest = {k: v for k, v in extensions.items() if k != PROVENANCE_EXTENSION_ID}
        if rest:
            bare["extensions"] = rest
        else:
            del bare["extensions"]
    return bare


def with_provenance(obj: Mapping[str, Any], provenance: Provenance) -> dict[str, Any]:
    signed = dict(obj)
    signed["extensions"] = {
        **(obj.get("extensions") or {}),
        PROVENANCE_EXTENSION_ID: {
            "extension_type": "property-extension",
            "origin_node": provenance.origin_node,
            "author": provenance.author,
            "signature": base64.b64encode(provenance.signature).decode(),
        },
    }
    return signed


def provenance_of(obj: Mapping[str, Any]) -> Provenance | None:
    """The provenance an object carries, None if it has none; Invalid if it is malformed."""
    extensions = obj.get("extensions")
    if not isinstance(extensions, dict) or PROVENANCE_EXTENSION_ID not in extensions:
        return None
    data = extensions[PROVENANCE_EXTENSION_ID]
    where = f"extensions.{PROVENANCE_EXTENSION_ID}"
    if not isinstance(data, dict):
        raise Invalid(where, "the provenance is not an object")
    origin, author, signature = data.get("origin_node"), data.get("author"), data.get("signature")
    if not isinstance(origin, str) or not origin.startswith(NODE_PREFIX):
        raise Invalid(f"{where}.origin_node", "must be a node id")
    if not isinstance(author, str) or not author.startswith("identity--"):
        raise Invalid(f"{where}.author", "must be an identity id")
    if not isinstance(signature, str):
        raise Invalid(f"{where}.signature", "must be a base64 signature")
    try:
        raw = base64.b64decode(signature, validate=True)
    except ValueError:  # binascii.Error, and text beyond ASCII (b64decode's ValueError)
        raise Invalid(f"{where}.signature", "is not base64") from None
    return Provenance(origin, author, raw)


def verify(public_key: Ed25519PublicKey, data: bytes, signature: bytes) -> bool:
    """Ed25519 verification by libsodium (twice as fast as OpenSSL's here)."""
    try:
        _verifier(public_key.public_bytes_raw()).verify(data, signature)
    except (BadSignatureError, ValueError):  # ValueError: not 64 bytes
        return False
    return True


@functools.lru_cache(maxsize=256)
def _verifier(raw: bytes) -> VerifyKey:
    return VerifyKey(raw)


def verify_object(public_key: Ed25519PublicKey, obj: Mapping[str, Any], signature: bytes) -> bool:
    """Does the signature cover this object, as its origin wrote it?"""
    return verify(public_key, canonical(without_provenance(obj)), signature)


def deletion_statement(collection_id: str, object_id: str, version: int, origin: str) -> bytes:
    """What an origin signs when it deletes a version it wrote."""
    return canonical(
        {"collection": collection_id, "id": object_id, "version": version, "origin": origin}
    )
