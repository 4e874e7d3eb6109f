"""Status wording a newcomer can read (issue 16): no jargon, no double spaces."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.focus.guidance import Guidance
from assistant.sinks import sharpest_area
from assistant.types import SharpnessMap


def map_with_sharpest(row: int, col: int, grid: tuple[int, int] = (9, 16)) -> SharpnessMap:
    tiles = np.ones(grid)
    tiles[row, col] = 50.0
    return SharpnessMap(tiles, (), (80.0, 80.0), np.zeros((720, 1280), np.int16))


@pytest.mark.parametrize("row, col, words", [
    (0, 0, "top left"), (0, 8, "top"), (0, 15, "top right"),
    (4, 0, "left of centre"), (4, 8, "centre"), (4, 15, "right of centre"),
    (8, 0, "bottom left"), (8, 7, "bottom"), (8, 15, "bottom right"),
])
def test_the_sharpest_area_is_named_in_words(row, col, words):
    assert sharpest_area(map_with_sharpest(row, col)) == words


@pytest.mark.parametrize("guidance", [
    Guidance("drive", None, "", "lost"), Guidance("drive", 3, "", "lost"), Guidance("suggest", 2, "B", "lost"),
    Guidance("drive"), Guidance("suggest", 1, "A", "hold"), Guidance("suggest", 1, "", "rack"),
    Guidance("suggest", 1, "A", "nearer", -0.5, 0.1), Guidance("drive", None, "", "search"),
])
def test_guidance_text_has_no_double_spaces_or_loose_ends(guidance):
    text = guidance.text()
    assert "  " not in text and text == text.strip()
    if guidance.direction == "lost":
        assert text.endswith("lost") and ("#3" in text or "B" in text or text == "drive: target lost")
