"""`trustbubble demo` (what `make demo` runs) brings up a node whose discovery and logins work."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx2
import pytest

from tests.live_node import CLI, free_port, node_env, stop_node, wait_until_up
from trustbubble.domain.tlp import TLP1_MARKING_IDS, TLP2_MARKING_IDS, TlpLevel
from trustbubble.services.demo import BILATERAL, REGIONAL, USERS, demo_password

TAXII = {"Accept": "application/taxii+json;version=2.1"}


@pytest.mark.slow
def test_the_demo_node_serves_its_bubbles_to_the_printed_logins(tmp_path: Path) -> None:
    port = free_port()
    env = node_env(f"sqlite:///{tmp_path / 'demo.sqlite3'}")
    stdout, stderr = tmp_path / "demo.out", tmp_path / "demo.err"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(
            [str(CLI), "demo", "--port", str(port)], env=env, cwd=tmp_path, stdout=out, stderr=err
        )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(process, f"{base}/taxii2/", stderr, timeout=180)
        printed = stdout.read_text()
        assert f"http://127.0.0.1:{port}/taxii2/" in printed
        with httpx2.Client(base_url=base, headers=TAXII, timeout=10) as client:
            assert client.get("/taxii2/").json()["api_roots"] == ["/taxii2/bubbles/"]
            for email, _org, _role, _what in USERS:
                assert f"{email}" in printed
                assert demo_password(email) in printed
            analyst = ("analyst@fr-cert.demo.test", demo_password("analyst@fr-cert.demo.test"))
            listed = client.get("/taxii2/bubbles/collections/", auth=analyst).json()
            titles = {c["title"]: c for c in listed["collections"]}
            assert {BILATERAL, REGIONAL} <= set(titles)
            bilateral = titles[BILATERAL]["id"]
            page = client.get(
                f"/taxii2/bubbles/collections/{bilateral}/objects/",
                params={"limit": 1000},
                auth=analyst,
            ).json()
            types = {o["type"] for o in page["objects"]}
            assert {"incident", "indicator", "malware", "vulnerability", "report"} <= types
            wrong = client.get("/taxii2/bubbles/collections/", auth=(analyst[0], "not-it"))
            assert wrong.status_code == 401
            # The NGO observes the regional bubble: it never sees the bilateral one.
            ngo = (
                "policy@patients-safety.demo.test",
                demo_password("policy@patients-safety.demo.test"),
            )
            assert (
                client.get(f"/taxii2/bubbles/collections/{bilateral}/", auth=ngo).status_code == 404
            )
            # A demo exercise was played to its end: its players read the report.
            sessions = client.get("/api/v1/exercises", auth=analyst).json()
            played = next(x for x in sessions if x["scenario"] == "hospital-ransomware")
            report = client.get(f"/api/v1/exercises/{played['id']}/report", auth=analyst).json()
            assert report["end_reason"] == "time is up at minute 60"
            chosen = [e["option"] for e in report["timeline"] if e["kind"] == "decision"]
            assert chosen[:3] == ["continuity", "ask-help", "take-down"]
            assert report["knowledge"]["after"]["share"] == 1.0
            # A demo consultation was commented on, answered and revised.
            company = ("soc@medsecure.demo.test", demo_password("soc@medsecure.demo.test"))
            taking = client.get("/api/v1/consultations", auth=company).json()
            assert [c["title"] for c in taking] == ["Guideline on cybersecurity in health care"]
            public = client.get(
                "/taxii2/bubbles/collections/7c1ea500-0000-4000-8000-000000000001/objects/",
                params={"limit": 1000},
            ).json()
            markings = {m for o in public["objects"] for m in o.get("object_marking_refs", [])}
            assert public["objects"]
            assert markings <= {TLP2_MARKING_IDS[TlpLevel.CLEAR], TLP1_MARKING_IDS[TlpLevel.CLEAR]}
    finally:
        stop_node(process)
