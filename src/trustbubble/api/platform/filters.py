"""Query parameters shared by the JSON API's routes: days, bounded numbers, the incident list's
and the observatory's filters."""

from __future__ import annotations

from typing import Annotated

from annotated_types import Ge, Le
from fastapi import Depends, Query

from trustbubble.services.incidents import incident_filter
from trustbubble.store.incidents import IncidentFilter

_Many = Annotated[list[str], Query()]

# A whole number the store can hold (SQL BIGINT): past it, a 400 rather than a fault of the driver.
Int64 = Annotated[int, Ge(-(2**63)), Le(2**63 - 1)]
# The number of a row the store counts itself (SQL INTEGER: chat messages, comments).
RowNumber = Annotated[int, Ge(0), Le(2**31 - 1)]
# A day typed as YYYY-MM-DD, or empty; the document says `format: date` so clients know.
Day = Annotated[str, Query(json_schema_extra={"format": "date"})]


def _observatory(
    since: Day = "",
    until: Day = "",
    sector: _Many = [],  # noqa: B006 (FastAPI reads, never mutates)
    country: _Many = [],  # noqa: B006
    attack_type: _Many = [],  # noqa: B006
) -> IncidentFilter:
    return incident_filter(since, until, sector, country, attack_type)


def _incidents(
    since: Day = "",
    until: Day = "",
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
