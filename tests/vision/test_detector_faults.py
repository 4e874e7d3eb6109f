"""A detector failure on one frame does not end the run: the detector is reloaded and tracking goes on."""

from __future__ import annotations

from assistant import paths
from assistant.sim.source import SimSource
from assistant.vision.faces import MediaPipeFaceDetector
from assistant.vision.subjects import SubjectTracker
from assistant.vision.tracker import Tracker


class FailingOnce(MediaPipeFaceDetector):
    """The real detector, made to fail on its Nth call the way a native crash surfaces in Python."""

    def __init__(self, model: str, fail_at: int) -> None:
        self.calls = 0  # loading runs one warm-up detection, counted too
        self.fail_at = fail_at
        self.restarts = 0
        super().__init__(model)

    def detect(self, image, region):
        self.calls += 1
        if self.calls == self.fail_at:
            raise RuntimeError("INTERNAL: CalculatorGraph::Run() failed")
        return super().detect(image, region)

    def restart(self) -> None:
        self.restarts += 1
        super().restart()


def test_a_detector_error_is_survived_and_reported():
    source = SimSource.from_file(paths.SCENES_DIR / "two_people.toml")
    short, full = FailingOnce("short", fail_at=20), FailingOnce("full", fail_at=3)
    stage = SubjectTracker({"short": short, "full": full}, Tracker(), source.hfov_deg)
    seen = []
    for _ in range(90):
        frame = source.read()
        seen.append({s.label for s in stage.update(frame) if not s.coasting})
    stage.close()
    assert short.restarts == 1 and full.restarts == 1
    assert len(stage.warnings) == 2 and "failed at" in stage.warnings[0] and "reloaded" in stage.warnings[0]
    assert seen[-1] == {"A", "B"}  # both people still tracked after the failures


class CannotReload(FailingOnce):
    def restart(self) -> None:
        self.restarts += 1
        raise RuntimeError("model file vanished")


def test_a_detector_that_cannot_be_reloaded_is_switched_off_not_fatal():
    source = SimSource.from_file(paths.SCENES_DIR / "two_people.toml")
    short = CannotReload("short", fail_at=10)
    stage = SubjectTracker({"short": short, "full": FailingOnce("full", fail_at=10_000)}, Tracker(), source.hfov_deg)
    for _ in range(60):
        stage.update(source.read())
    stage.close()
    assert short.restarts == 1 and short.calls == 10  # never asked again after it could not reload
    assert any("could not be reloaded" in w for w in stage.warnings)
