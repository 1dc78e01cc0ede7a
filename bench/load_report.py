"""The load benchmark's section of docs/benchmarks.md: totals, latencies per kind, conditions."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from load_clients import (
    ALONE_REQUESTS,
    KINDS,
    OBSERVATORY_QUERIES,
    POST_OBJECTS,
    SIGN_IN_AT_ONCE,
    Tally,
)
from load_content import MIX
from taxii_report import command_line, machine

if TYPE_CHECKING:
    from load import Run

START = "<!-- bench/load.py: start (generated; a rerun replaces this section) -->"
END = "<!-- bench/load.py: end -->"


def percentile(values: list[float], share: float) -> float:
    """Nearest rank."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def error_lines(tally: Tally) -> list[str]:
    """Each kind of error: how many, and how long after sending the request it came."""
    out = []
    for what, took in sorted(tally.errors.items(), key=lambda item: -len(item[1])):
        after = f"{min(took) / 1000:.1f} to {max(took) / 1000:.1f} s"
        out.append(f"{len(took)} x {what}, {after} after the request was sent")
    return out


def mix_cpu_ms(run: Run) -> float:
    """Server CPU per request of the mix, from the kinds' costs one at a time."""
    weights = {k.name: k.weight for k in KINDS if k.name in run.alone_cpu_ms}
    total = sum(weights.values())
    return sum(run.alone_cpu_ms[name] * w for name, w in weights.items()) / total if total else 0.0


def _alone(runs: list[Run]) -> list[str]:
    header, rule = "| request kind |", "|---|"
    for r in runs:
        header += f" {r.backend}: p50 ms | server CPU ms |"
        rule += "--:|--:|"
    lines = [
        "",
        f"The same kinds one request at a time, before the run ({ALONE_REQUESTS} of each, one "
        f"client acting as {runs[0].alone_as if runs else '?'}): latency "
        "without a queue, and the server's CPU time per request (its processes only; on "
        "PostgreSQL the database's own processes are not counted):",
        "",
        header,
        rule,
    ]
    for kind in KINDS:
        row = f"| {kind.name} |"
        for r in runs:
            times = r.alone.latencies_ms.get(kind.name, [])
            row += f" {percentile(times, 0.5):.1f} | {r.alone_cpu_ms.get(kind.name, 0.0):.1f} |"
        lines.append(row)
    row = "| the mix (weighted) |"
    for r in runs:
        every = [t for times in r.alone.latencies_ms.values() for t in times]
        row += f" {percentile(every, 0.5):.1f} | {mix_cpu_ms(r):.1f} |"
    lines.append(row)
    return lines


def _priority(runs: list[Run]) -> str:
    raised = {r.client_priority for r in runs}
    if raised == {0}:
        return (
            "- The clients ran at the server's CPU priority (raising it needs root): on a busy "
            "machine their own delays are in the latencies."
        )
    levels = "/".join(str(n) for n in sorted(raised))
    return (
        f"- The clients' process ran {levels} nice levels above the server's (`setpriority`), "
        "so that on a shared machine the load generator is not the bottleneck it measures: "
        "starved, it read answers seconds late, which both inflated the latencies and made it "
        "reuse connections that uvicorn was closing after 5 s idle on its side (connection "
        "errors in trial runs)."
    )


def _server(run: Run) -> str:
    if run.workers == 1:
        return "`trustbubble serve`, 1 process"
    return f"`trustbubble serve --workers {run.workers}`"


def _waited(run: Run) -> str:
    minutes = f"{run.waited / 60:.1f} min"
    return minutes if run.quiet else f"{minutes}, still above the bar"


def render(
    runs: list[Run], args: argparse.Namespace, think: tuple[float, float], timeout: float
) -> str:
    facts = machine()
    sources = sorted({r.source for r in runs})
    lines = [
        START,
        f"### Results of {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"Command, from the repository root: `{command_line()}`",
        "",
        f"Machine: {facts['cpu']}, {facts['cores']} cores, {facts['memory']} RAM, {facts['os']};"
        f" Python {facts['python']}, SQLite {facts['sqlite']}; {facts['packages']}.",
        "",
        "Source: TrustBubble at " + "; then ".join(sources) + ".",
        "",
        "| store | server | clients | seconds | requests | requests/s | errors "
        "| objects POSTed | object versions stored: before | after "
        "| load average: start | end | waited for it | CPU s: server | client "
        "| clients' loop late p50 ms | p99 | max |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|--:|--:|--:|--:|--:|",
    ]
    for r in runs:
        errors = r.tally.error_count
        lines.append(
            f"| {r.backend} | {_server(r)} | {r.clients} | {r.elapsed:.1f} "
            f"| {r.tally.requests:,} | {r.tally.requests / r.elapsed:,.0f} "
            f"| {'**' + str(errors) + '**' if errors else '0'} | {r.posted:,} "
            f"| {r.stored_before:,} | {r.stored_after:,} "
            f"| {r.load_start:.2f} | {r.load_end:.2f} | {_waited(r)} "
            f"| {r.server_cpu:.0f} | {r.client_cpu:.0f} "
            f"| {percentile(r.lag_ms, 0.5):.0f} | {percentile(r.lag_ms, 0.99):.0f} "
            f"| {max(r.lag_ms, default=0.0):.0f} |"
        )
    header = "| request kind | weight |"
    rule = "|---|--:|"
    for r in runs:
        header += f" {r.backend} requests | p50 ms | p99 ms |"
        rule += "--:|--:|--:|"
    lines += ["", "Latency from sending the request to the last byte of the answer:", "", header]
    lines.append(rule)
    for kind in KINDS:
        row = f"| {kind.name} | {kind.weight} |"
        for r in runs:
            times = r.tally.latencies_ms.get(kind.name, [])
            row += (
                f" {len(times):,} | {percentile(times, 0.5):.0f} | {percentile(times, 0.99):.0f} |"
            )
        lines.append(row)
    row = "| all | 100 |"
    for r in runs:
        every = [t for times in r.tally.latencies_ms.values() for t in times]
        row += f" {len(every):,} | {percentile(every, 0.5):.0f} | {percentile(every, 0.99):.0f} |"
    lines.append(row)
    lines += _alone(runs)
    for r in runs:
        if r.alone.errors:
            lines += ["", f"Errors on {r.backend}, one request at a time:", ""]
            lines += [f"- {line}" for line in error_lines(r.alone)]
        if r.tally.errors:
            lines += ["", f"Errors on {r.backend}:", ""]
            lines += [f"- {line}" for line in error_lines(r.tally)]
        if r.log_problems:
            lines += ["", f"Faults in the {r.backend} server's log ({len(r.log_problems)}):", ""]
            lines += [f"- `{line}`" for line in r.log_problems[:10]]
    lines += ["", "The mix and the conditions:", ""]
    lines += [f"- {kind.name} (weight {kind.weight}): {kind.what}." for kind in KINDS]
    users = runs[0].users if runs else []
    left_out = runs[0].left_out if runs else []
    queries = ", ".join(f"`{q}`" if q else "none" for q in OBSERVATORY_QUERIES)
    lines += [
        "- TAXII requests go to the person's bubbles (collections), T is the date_added of an "
        "object there and ID an object they may read, both from the manifest read beforehand "
        "or from the client's own POSTs; observatory filters: " + queries + ".",
        f"- Objects POSTed ({POST_OBJECTS[0]} to {POST_OBJECTS[1]} a POST, all new): {MIX}. "
        f"The same generator shared {args.preload:,} objects over TAXII before the run.",
        f"- Each client is one of {len(users)} demo users, in turn ("
        + ("all but " + ", ".join(left_out) + ", who have no bubble" if left_out else "all of them")
        + "): a Bearer API token for TAXII and the JSON API, and a session cookie for the "
        "pages from signing in once through the form (CSRF token included) before the run; "
        "the anonymous kinds send neither.",
        f"- Each client waits for its answer, then thinks {think[0] * 1000:.0f} to "
        f"{think[1] * 1000:.0f} ms (uniform) before the next request; clients start within "
        f"the first {think[1] * 1000:.0f} ms. Requests still running at the end are waited for "
        "and counted; requests/s is requests over the time until the last answer.",
        "- An error is a 5xx, any other status than the one expected (200; 202 for a POST, "
        f"with every object stored), a connection error or no full answer within {timeout:.0f} s.",
        f"- One asyncio process with httpx2, one pool of {args.clients} keep-alive connections "
        f"shared by the clients, on the same {facts['cores']} cores as the server. How late "
        "its event loop wakes from a 50 ms sleep, all through the run, is the time this "
        "process adds to the latencies.",
        _priority(runs),
        "- PostgreSQL: a database made for the run on the local server and dropped after it.",
        "- The server's log of each run (copied to `bench/results/`) is searched for errors, "
        "tracebacks, 500s and workers that uvicorn restarted: "
        + "; ".join(f"{r.backend} {len(r.log_problems)}" for r in runs)
        + ".",
        f"- Before each run the script waits for the 1-minute load average to fall under "
        f"{args.quiet_load} (at most {args.quiet_wait / 60:.0f} minutes): other work shares "
        "the machine.",
    ]
    for r in runs:
        if r.sign_in_ms:
            lines.append(
                f"- Sign-ins before the {r.backend} run, {SIGN_IN_AT_ONCE} at a time: "
                f"{len(r.sign_in_ms)}, p50 {percentile(r.sign_in_ms, 0.5):.0f} ms, "
                f"slowest {max(r.sign_in_ms):.0f} ms, none refused."
            )
    lines += ["", END, ""]
    return "\n".join(lines)
