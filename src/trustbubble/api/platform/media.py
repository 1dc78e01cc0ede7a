"""What the JSON API answers besides JSON, declared for the OpenAPI document."""

from __future__ import annotations

from typing import Any

CSV = "text/csv; charset=utf-8"
STIX = "application/stix+json;version=2.1"

# A route with `format=csv` answers its JSON or this download.
OR_CSV: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "JSON, or with `format=csv` a CSV file.",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
}

STIX_BUNDLE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "A STIX 2.1 bundle.",
        "content": {
            STIX: {
                "schema": {
                    "type": "object",
                    "required": ["type", "id", "objects"],
                    "properties": {
                        "type": {"const": "bundle"},
                        "id": {"type": "string"},
                        "objects": {"type": "array", "items": {"type": "object"}},
                    },
                }
            }
        },
    }
}

EVENT_STREAM: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Server-sent events, until the client goes.",
        "content": {"text/event-stream": {"schema": {"type": "string"}}},
    }
}
