"""The Sink base class: every optional hook declared, doing nothing, and a context manager."""

from __future__ import annotations

import numpy as np

from assistant.sink import Sink
from assistant.types import NoSignal


class Closing(Sink):
    def __init__(self) -> None:
        self.closed = 0

    def close(self) -> None:
        self.closed += 1


def test_the_hooks_a_sink_does_not_override_do_nothing():
    sink = Sink()
    assert sink.wants_picture is False and sink.sounds is False
    assert sink.idle(np.zeros((2, 2, 3), np.uint8), NoSignal("camera:0", 1.0, 1.0)) is None
    assert sink.on_command(object(), None) is False  # type: ignore[arg-type]
    assert sink.on_command_result(object(), "refused") is None  # type: ignore[arg-type]
    assert sink.on_event(object()) is None  # type: ignore[arg-type]
    sink.close()


def test_a_sink_closes_when_its_block_ends_even_on_an_error():
    with Closing() as sink:
        pass
    assert sink.closed == 1
    failing = Closing()
    try:
        with failing:
            raise RuntimeError("a stage failed")
    except RuntimeError:
        pass
    assert failing.closed == 1
