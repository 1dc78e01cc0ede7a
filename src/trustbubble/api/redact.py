"""Keep the one-time tokens that travel in paths out of the access log (a guest's link, a
communication check's answer): the log shows `/exercises/join/…` instead of the secret."""

from __future__ import annotations

import logging
import re

# A path segment that is a secret: the one after these prefixes.
SECRET_PATHS = re.compile(r"(/exercises/join/|/checks/answer/)[^/?#\s]+")


def redact(path: str) -> str:
    return SECRET_PATHS.sub(r"\1…", path)


class RedactTokens(logging.Filter):
    """For uvicorn's access log, whose record arguments are (client, method, path, version,
    status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redact(args[2]), *args[3:])
        return True


def install() -> None:
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactTokens) for f in access.filters):
        access.addFilter(RedactTokens())
