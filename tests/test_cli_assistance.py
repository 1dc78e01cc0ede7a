"""`trustbubble assist` and `trustbubble poc` as an operator uses them."""

from __future__ import annotations

from typing import Any

from tests.test_cli import as_json, run  # noqa: F401 (the `run` fixture)


def test_raise_answer_and_refuse_a_forbidden_move(run: Any) -> None:  # noqa: F811
    run("org", "add", "CERT FR", "--kind", "cert", "--country", "FR")
    run("org", "add", "CERT KE", "--kind", "cert", "--country", "KE")
    run("user", "add", "a@fr.test", "--org", "CERT FR")
    run("user", "add", "a@ke.test", "--org", "CERT KE")
    run("user", "add", "admin@ke.test", "--org", "CERT KE", "--role", "admin")
    run("bubble", "add", "Health", "--owner", "CERT FR")
    run("bubble", "invite", "Health", "CERT KE", "--as", "a@fr.test")
    run("bubble", "accept", "Health", "--as", "admin@ke.test")
    made = as_json(
        run(
            "assist",
            "raise",
            "Health",
            "--title",
            "Ransomware at Lyon",
            "--asked",
            "mitigation",
            "--asked",
            "technical-analysis",
            "--urgency",
            "critical",
            "--to",
            "CERT KE",
            "--as",
            "a@fr.test",
            "--json",
        )
    )
    waiting = as_json(run("assist", "list", "--as", "a@ke.test", "--json"))["requests"]
    assert [(r["id"], r["waiting_on_me"]) for r in waiting] == [(made["id"], True)]
    answer = as_json(run("assist", "act", made["id"], "acknowledge", "--as", "a@ke.test", "--json"))
    assert answer["state"] == "acknowledged"
    run("assist", "act", made["id"], "withdraw", "--as", "a@fr.test")
    refused = run("assist", "act", made["id"], "resolve", "--as", "a@ke.test", code=1)
    assert "the request is withdrawn" in refused.stderr
    unknown = run(
        "assist",
        "raise",
        "Health",
        "--title",
        "x",
        "--asked",
        "mitigation",
        "--to",
        "CERT XX",
        "--as",
        "a@fr.test",
        code=1,
    )
    assert "'CERT XX' is not an active member" in unknown.stderr
    assert len(as_json(run("assist", "list", "--as", "a@fr.test", "--json"))["requests"]) == 1


def test_points_of_contact(run: Any) -> None:  # noqa: F811
    run("org", "add", "CERT FR", "--kind", "cert", "--country", "FR")
    run("user", "add", "a@fr.test", "--org", "CERT FR")
    made = as_json(
        run(
            "poc",
            "add",
            "Duty officer",
            "--email",
            "duty@fr.test",
            "--phone",
            "+33 1 23 45 67 89",
            "--time-zone",
            "Europe/Paris",
            "--as",
            "a@fr.test",
            "--json",
        )
    )
    listed = as_json(run("poc", "list", "--as", "a@fr.test", "--json"))["pocs"]
    assert [(p["id"], p["name"]) for p in listed] == [(made["id"], "Duty officer")]
    bad = run("poc", "add", "X", "--email", "not-mail", "--as", "a@fr.test", code=1)
    assert "is not an e-mail address" in bad.stderr
    run("poc", "remove", made["id"], "--as", "a@fr.test")
    assert as_json(run("poc", "list", "--as", "a@fr.test", "--json"))["pocs"] == []
