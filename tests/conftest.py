"""Shared fixtures: real photographs and the demo scene."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from assistant import paths

DEMO_SCENE = paths.SCENES_DIR / "two_people.toml"


def photo(name: str) -> np.ndarray:
    image = cv2.imread(str(paths.ASSETS_DIR / name), cv2.IMREAD_COLOR)
    assert image is not None, name
    return image


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    return photo("astronaut.png")


@pytest.fixture(scope="session")
def hopper() -> np.ndarray:
    return photo("grace_hopper.jpg")


@pytest.fixture(scope="session")
def demo_scene() -> Path:
    return DEMO_SCENE
