"""Suggest mode after the operator racks: the rack's destination becomes the target (issue 16).

The demo scene racks from A to B half-way through. Before, the guide kept the
largest face (A) as its target and said "turn nearer" for the rest of the
clip; the operator had plainly chosen B.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.live import LiveOptions, build_pipeline
from assistant.sink import Sink


class _Keep(Sink):
    """A sink keeping every frame's result."""

    def __init__(self) -> None:
        self.results: list = []

    def consume(self, result) -> None:
        self.results.append(result)


def run_demo(config: Path | None = None) -> list:
    pipeline = build_pipeline(LiveOptions(headless=True, no_audio=True, config=config), with_sinks=False)
    pipeline.pacer = None  # as fast as the machine allows; the rig's clock is the frame index
    keep = _Keep()
    pipeline.add_sink(keep)
    pipeline.run()
    return keep.results


def observed_rack(results: list):
    """The demo's rack, and the index of the frame that labelled it (up to ~1.5 s after it ended)."""
    racks = [(e, i) for i, r in enumerate(results) for e in r.events if e.type == "rack" and e.origin == "observed"]
    assert racks, "the demo scene's rack was not seen"
    return racks[0]


@pytest.fixture(scope="module")
def demo_results() -> list:
    return run_demo()


def test_an_observed_rack_makes_its_destination_the_target(demo_results):
    rack, labelled = observed_rack(demo_results)
    before = [r.guidance.target_id for r in demo_results if r.frame.t < rack.start - 0.2]
    after = demo_results[labelled + 1:]
    assert after[0].frame.t - rack.end < 2.0  # the guide follows as soon as the rack is labelled
    assert before[-1] == rack.from_id
    assert after and all(r.guidance.target_id == rack.to_id for r in after)
    # No nagging back to the old target: once B is sharp the guide holds.
    assert sum(r.guidance.direction in ("nearer", "farther") for r in after) <= 0.1 * len(after)
    assert any("you racked to" in line and f"#{rack.to_id}" in line for line in after[-1].status.ticker)


def test_following_racks_can_be_turned_off(tmp_path: Path):
    config = tmp_path / "no-follow.toml"
    config.write_text("[suggest]\nfollow_racks = false\n")
    results = run_demo(config)
    rack, labelled = observed_rack(results)
    after = results[labelled + 1:]
    assert after and all(r.guidance.target_id == rack.from_id for r in after)
    assert not any("you racked" in line for r in after for line in r.status.ticker)
