"""Query parameters shared by the incident list, the observatory and their pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query

from trustbubble.services.incidents import incident_filter
from trustbubble.store.incidents import IncidentFilter

_Many = Annotated[list[str], Query()]


def _observatory(
    since: str = "",
    until: str = "",
    sector: _Many = [],  # noqa: B006 (FastAPI reads, never mutates)
    country: _Many = [],  # noqa: B006
    attack_type: _Many = [],  # noqa: B006
) -> IncidentFilter:
    return incident_filter(since, until, sector, country, attack_type)


def _incidents(
    since: str = "",
    until: str = "",
    sector: _Many = [],  # noqa: B006
    country: _Many = [],  # noqa: B006
    attack_type: _Many = [],  # noqa: B006
    status: _Many = [],  # noqa: B006
) -> IncidentFilter:
    return incident_filter(since, until, sector, country, attack_type, status)


# The period (`since`, `until`: days), `sector`, `country` and `attack_type` of the observatory.
ObservatoryFilter = Annotated[IncidentFilter, Depends(_observatory)]
# The same, and `status`, for the incident list.
IncidentListFilter = Annotated[IncidentFilter, Depends(_incidents)]
