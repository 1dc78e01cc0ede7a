"""How long the fuzzers run: TRUSTBUBBLE_FUZZ_EXAMPLES, 10 by default (CI), more for a release.

Schemathesis makes that many requests per operation on top of its own examples and boundary
cases; each Hypothesis property runs `scaled(n)` examples, n being its count at the default.
See docs/testing.md.
"""

from __future__ import annotations

import os

EXAMPLES = int(os.environ.get("TRUSTBUBBLE_FUZZ_EXAMPLES", "10"))


def scaled(examples_at_default: int) -> int:
    return max(1, examples_at_default * EXAMPLES // 10)
