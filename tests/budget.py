"""How many examples a Hypothesis property draws: its full count, or a tenth of it in the fast tier.

The fast tier (docs/development.md) sets ``FAST_TESTS=1``; tests/conftest.py then loads the
``fast`` profile for properties that keep Hypothesis' default count, and ``examples`` scales the
ones that name their own. Without the variable every property runs its full, fixed count.
"""

from __future__ import annotations

import os

FAST = os.environ.get("FAST_TESTS") == "1"
FAST_DIVISOR = 10


def examples(full: int) -> int:
    """The examples a property with ``full`` examples draws in this run."""
    return max(1, full // FAST_DIVISOR) if FAST else full
