"""How long a driver takes to give up: the time to the exception a call raises."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest


def timed(call: Callable[[], object]) -> tuple[BaseException, float]:
    """``call()``'s exception and how long it took to raise it."""
    start = time.monotonic()
    with pytest.raises(Exception) as caught:
        call()
    return caught.value, time.monotonic() - start
