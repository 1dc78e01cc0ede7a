"""Jinja filters for the pages: numbers and durations as people read them."""

from __future__ import annotations


def duration(seconds: float | None) -> str:
    """3725 -> '1 h 2 min'; None -> '—' (not yet)."""
    if seconds is None:
        return "—"
    minutes = int(seconds // 60)
    if minutes < 1:
        return f"{int(seconds)} s"
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"
