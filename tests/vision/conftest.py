"""The real MediaPipe detectors, loaded once for all vision tests."""

from __future__ import annotations

import pytest

from assistant.vision.faces import MediaPipeFaceDetector


@pytest.fixture(scope="session")
def detectors():
    found = {name: MediaPipeFaceDetector(name) for name in ("short", "full")}
    yield found
    for detector in found.values():
        detector.close()
