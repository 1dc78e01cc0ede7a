"""What each step of a sync costs per object, in CPU time, measured in one process.

    .venv/bin/python bench/sync_costs.py [--objects 1000] [--repeat 5]

One page of the benchmark's indicators goes through the steps a sync takes with it: on the
sending node, parsing the stored body, the canonical form, the Ed25519 signature and the signed
body; on the receiving node, parsing the page, reading the provenance, the canonical form, the
Ed25519 check, validation, and storing the page in a fresh SQLite store. Each step is timed with
the process's CPU clock (best of --repeat), so other work on the machine moves it less than wall
time. The canonical form is timed both ways: by the rfc8785 library and as `canonical` does it.
If the system has libsodium, its Ed25519 is timed too, for comparison: the node does not use it.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import rfc8785
from cryptography.hazmat.primitives import serialization

from sync_workload import Cast, stix_object
from trustbubble.domain.federation import (
    NodeKey,
    canonical,
    provenance_of,
    verify,
    without_provenance,
)
from trustbubble.domain.tlp import TlpLevel
from trustbubble.services.objects import now_us, prepare
from trustbubble.store.database import Database
from trustbubble.store.objects import NewVersion, insert_versions

AUTHOR = "identity--5c3c8a36-4f3e-4d0b-9b7e-2f1d1c0b7a10"
PEER = "identity--0d8f4b8e-8a55-4c34-9d6f-7f2a8f1e3b21"


def _cpu_us(step: Callable[[], object], count: int, repeat: int) -> float:
    """Best CPU microseconds per object of `step`, which handles `count` objects."""
    best = float("inf")
    for _ in range(repeat):
        began = time.process_time()
        step()
        best = min(best, time.process_time() - began)
    return best / count * 1e6


def _sodium() -> Any | None:
    name = ctypes.util.find_library("sodium")
    if name is None:
        return None
    lib = ctypes.CDLL(name)
    return lib if lib.sodium_init() >= 0 else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--objects", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    n, repeat = args.objects, args.repeat
    key = NodeKey.generate()
    cast = Cast(AUTHOR, PEER)
    stored = [
        orjson.dumps(stix_object("costs", i, cast), option=orjson.OPT_SORT_KEYS) for i in range(n)
    ]
    parsed = [orjson.loads(body) for body in stored]
    canonicals = [canonical(obj) for obj in parsed]
    signatures = [key.sign(data) for data in canonicals]
    signed = [key.sign_object(obj, AUTHOR) for obj in parsed]
    page = orjson.dumps({"objects": signed})
    received: list[dict[str, Any]] = orjson.loads(page)["objects"]
    assert all(canonical(o) == rfc8785.dumps(o) for o in parsed)

    rows: list[tuple[str, str, float]] = []

    def time_it(side: str, step: str, work: Callable[[], object]) -> None:
        rows.append((side, step, _cpu_us(work, n, repeat)))

    time_it(
        "A",
        "parse the stored body (orjson.loads; done twice today)",
        lambda: [orjson.loads(b) for b in stored],
    )
    time_it(
        "A", "canonical form by rfc8785.dumps (before)", lambda: [rfc8785.dumps(o) for o in parsed]
    )
    time_it("A", "canonical form by `canonical` (now)", lambda: [canonical(o) for o in parsed])
    time_it("A", "Ed25519 sign (cryptography, OpenSSL)", lambda: [key.sign(c) for c in canonicals])
    time_it(
        "A",
        "whole signing of a stored body, as `outgoing_page` does (now)",
        lambda: [
            orjson.dumps(key.sign_object(orjson.loads(b), AUTHOR), option=orjson.OPT_SORT_KEYS)
            for b in stored
        ],
    )
    time_it("B", "parse the page (orjson.loads, per object)", lambda: orjson.loads(page))
    time_it(
        "B",
        "read the provenance, copy without it",
        lambda: [(provenance_of(o), without_provenance(o)) for o in received],
    )
    bare = [without_provenance(o) for o in received]
    time_it(
        "B", "canonical form by rfc8785.dumps (before)", lambda: [rfc8785.dumps(o) for o in bare]
    )
    time_it("B", "canonical form by `canonical` (now)", lambda: [canonical(o) for o in bare])
    time_it(
        "B",
        "Ed25519 verify (cryptography, OpenSSL)",
        lambda: [verify(key.public, c, s) for c, s in zip(canonicals, signatures, strict=True)],
    )
    time_it(
        "B",
        "validation: prepare (STIX checks, body, digest)",
        lambda: [prepare(o, i, TlpLevel.AMBER) for i, o in enumerate(received)],
    )
    ready = [prepare(o, i, TlpLevel.AMBER) for i, o in enumerate(received)]
    with tempfile.TemporaryDirectory() as work:
        db = Database(f"sqlite:///{Path(work) / 'costs.sqlite3'}")
        db.upgrade()
        rounds = iter(range(10_000))

        def store() -> None:
            # A new collection each time: every version is new, as in a sync.
            collection = f"{next(rounds):08d}-0000-4000-8000-000000000000"
            with db.write() as conn:
                insert_versions(
                    conn,
                    collection,
                    "org",
                    [v for v in ready if isinstance(v, NewVersion)],
                    now_us(),
                )

        time_it("B", "store: insert_versions and commit (SQLite, small store)", store)
        db.dispose()
    sodium = _sodium()
    if sodium is not None:
        raw_public = key.public.public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        verify_detached = sodium.crypto_sign_verify_detached
        length = ctypes.c_ulonglong
        time_it(
            "B",
            "for comparison: Ed25519 verify by the system's libsodium (not used)",
            lambda: [
                verify_detached(s, c, length(len(c)), raw_public)
                for c, s in zip(canonicals, signatures, strict=True)
            ],
        )
    print("| node | step | CPU µs per object |")
    print("|---|---|--:|")
    for side, step, cost in rows:
        print(f"| {side} | {step} | {cost:.1f} |")


if __name__ == "__main__":
    main()
