"""Calibration on the virtual rig: the sweep finds where a chart is sharp, and the fitted lens map
recovers a motor's hidden gearing to within the depth of field."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from assistant import paths
from assistant.calibrate import CalibrationPlan, calibrate
from assistant.cli import main
from assistant.drivers.base import Capabilities
from assistant.drivers.guard import GuardedDriver, SafetyLimits
from assistant.drivers.lensmap import load_lens
from assistant.sim.source import SimSource

CHART = paths.SCENES_DIR / "calibrate_chart.toml"
DOF_DPT = 0.043  # the rig's depth of field on each side of focus (f/2, 34.2 mm, 0.025 mm)


class GearedMotor:
    """A focus motor whose steps turn the rig's focus ring through a curve the test keeps to itself."""

    capabilities = Capabilities("steps", (0.0, 4000.0), resolution=1.0, reports_position=True)

    def __init__(self) -> None:
        self.steps = 0.0

    @staticmethod
    def dioptres(steps: float) -> float:
        return 3.2 * (steps / 4000.0) ** 1.6  # infinity at 0 steps, 0.31 m at 4000

    def move_to(self, native: float) -> None:
        self.steps = round(native)

    def position(self) -> float:
        return self.steps

    def stop(self) -> None:
        pass

    def close(self) -> None:
        pass


def test_fitted_map_recovers_hidden_gearing_between_the_calibrated_distances(tmp_path: Path):
    source = SimSource.from_file(CHART)
    motor = GearedMotor()
    source.focus_readout = lambda: motor.dioptres(motor.position())  # the rig's glass turns with the motor
    guard = GuardedDriver(motor, None, SafetyLimits((0.0, 4000.0)), clock=lambda: source.media_t)
    plan = CalibrationPlan((0.4, 0.7, 1.2, 2.5, 8.0), tmp_path / "geared.toml", "geared", (10.0, 3990.0),
                           (("A", 1.5),), prompt=False)
    said = io.StringIO()
    lens, lens_map = calibrate(plan, guard, "steps", source, say=said)
    assert lens.units == "steps" and lens.soft_limits == (10.0, 3990.0) and lens.marks == {"A": 1.5}
    # At the calibrated distances and between them, the map puts focus within the depth of field.
    for distance in (0.4, 0.55, 0.7, 0.9, 1.2, 1.8, 2.5, 4.0, 8.0):
        steps = lens_map.to_native(1 / distance)
        assert abs(motor.dioptres(steps) - 1 / distance) < DOF_DPT, distance
    assert "wrote" in said.getvalue() and "0.4 m: sharpest at" in said.getvalue()


def test_cli_calibrates_the_rig_lens_and_writes_a_file_live_can_load(tmp_path: Path, capsys):
    out = tmp_path / "rig.toml"
    assert main(["calibrate", "--distances", "0.5,1,3", "--out", str(out), "--name", "rig", "--mark", "B=3"]) == 0
    lens, lens_map = load_lens(out)
    assert lens.name == "rig" and lens.units == "dioptres" and lens.marks == {"B": 3.0}
    for point in lens.points:  # the rig's own lens: native is dioptres, so each peak sits at 1 / distance
        assert point.native == pytest.approx(1 / point.distance_m, abs=DOF_DPT / 2)
    assert "wrote" in capsys.readouterr().err


@pytest.mark.parametrize("args,message", [
    (["--distances", "1", "--out", "x.toml"], "at least two different distances"),
    (["--distances", "1,a", "--out", "x.toml"], "distances in metres"),
    (["--distances", "1,2", "--out", "x.toml", "--driver", "tests.drivers.plugin_motor:make_motor"], "leave out --driver"),
    (["--distances", "1,2", "--out", "x.toml", "--source", "clip.mp4"], "no such file"),
    (["--distances", "1,2", "--out", "x.toml", "--soft-limits", "5,1"], "MIN must be below MAX"),
    (["--distances", "1,2", "--out", "x.toml", "--mark", "A=far"], "NAME=METRES"),
])
def test_calibrate_mistakes_get_one_line_and_exit_code_2(args, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    try:
        code = main(["calibrate", *args])
    except SystemExit as usage:  # argparse's own exit for a malformed option
        code = usage.code
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_a_real_camera_asks_for_a_terminal_when_it_cannot_prompt(tmp_path: Path, monkeypatch):
    """Without a person at a terminal, a camera calibration stops before sweeping."""
    from assistant.calibrate import _present_target
    from assistant.errors import UserInputError

    class Camera:  # a source that cannot place a chart itself
        pass

    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    with pytest.raises(UserInputError, match="run it on a terminal"):
        _present_target(Camera(), 1.0, prompt=True, ask=input)
    asked = []
    _present_target(Camera(), 1.0, prompt=True, ask=asked.append)
    assert "1 m from the lens" in asked[0]


def _under_a_file(tmp_path: Path) -> Path:
    """A folder that cannot exist: its name is taken by a file (fails for root too, unlike a chmod 555 folder)."""
    blocker = tmp_path / "notes.txt"
    blocker.write_text("a file, not a folder")
    return blocker / "lens.toml"


@pytest.mark.parametrize("out", [pytest.param(lambda tmp: Path("/proc/r.toml"), id="proc"),
                                 pytest.param(_under_a_file, id="folder is a file")])
def test_an_unwritable_out_fails_before_the_sweep(out, tmp_path: Path, capsys, monkeypatch):
    """A hand-held calibration is costly to repeat: --out is checked before the first target, not after the last."""
    target = out(tmp_path)
    read = []
    real_read = SimSource.read
    monkeypatch.setattr(SimSource, "read", lambda self: read.append(1) or real_read(self))
    placed = []
    monkeypatch.setattr(SimSource, "place_layer", lambda self, *args, **kwargs: placed.append(args))
    assert main(["calibrate", "--distances", "1,2", "--out", str(target)]) == 2
    assert read == [] and placed == []  # no frame read, no target placed: the sweep never started
    err = capsys.readouterr().err
    assert f"{target}: cannot" in err and "writable" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_calibrate_refuses_an_unwritable_out_before_moving_the_driver(monkeypatch):
    """calibrate() itself checks --out before the first target: the driver is never moved, no frame is read."""
    from assistant.errors import OutputError

    source = SimSource.from_file(CHART)
    motor = GearedMotor()
    moves, read = [], []
    monkeypatch.setattr(motor, "move_to", lambda native: moves.append(native))
    monkeypatch.setattr(source, "read", lambda: read.append(1))
    guard = GuardedDriver(motor, None, SafetyLimits((0.0, 4000.0)), clock=lambda: source.media_t)
    plan = CalibrationPlan((0.5, 1.0), Path("/proc/r.toml"), prompt=False)
    with pytest.raises(OutputError, match="nothing was swept"):
        calibrate(plan, guard, "steps", source, say=io.StringIO())
    assert moves == [] and read == []


def test_the_out_check_makes_a_missing_folder_and_leaves_no_trace(tmp_path: Path):
    """Like every output file, a missing folder is made; the probe file is removed and an existing file kept."""
    from assistant.calibrate import check_writable

    check_writable(tmp_path / "new" / "lens.toml")
    assert (tmp_path / "new").is_dir() and list((tmp_path / "new").iterdir()) == []
    existing = tmp_path / "old.toml"
    existing.write_text("keep")
    check_writable(existing)
    assert existing.read_text() == "keep" and sorted(p.name for p in tmp_path.iterdir()) == ["new", "old.toml"]


def _bmd_rest():
    """A Blackmagic camera's REST focus on 127.0.0.1.

    Each connector gives the driver, the camera's own focus reading (native), that reading as
    0 (near) .. 1 (far), and what closes the camera.
    """
    from assistant.drivers.bmd_rest import BmdRestFocusDriver
    from tests.drivers.bmd_camera import RestCamera

    camera = RestCamera()
    return BmdRestFocusDriver("127.0.0.1", port=camera.port), lambda: camera.server.focus, float, camera.close


def _bmd_ble():
    """A Blackmagic camera over a Bluetooth transport that reads the packets it is sent."""
    from assistant.drivers.bmd_ble import BmdBleFocusDriver
    from tests.drivers.bmd_camera import FakeBleCamera

    camera = FakeBleCamera(echo=True)
    driver = BmdBleFocusDriver(camera)
    driver.move_to(0.5)  # the camera knows its focus once told
    return driver, lambda: camera.focus, float, lambda: None


def _visca():
    """A PTZ camera over VISCA over IP on 127.0.0.1; its 0x1000 (far) .. 0xF000 (near) read as 0 (near) .. 1."""
    from assistant.drivers.visca import ViscaFocusDriver
    from tests.drivers.visca_camera import ViscaCamera

    camera = ViscaCamera(travel_time=0.3)
    lo, hi = camera.limits
    return ViscaFocusDriver("127.0.0.1", camera.port), camera.position, lambda n: (hi - n) / (hi - lo), camera.close


@pytest.mark.parametrize("connect", [_bmd_rest, _bmd_ble, _visca], ids=["bmd rest", "bmd ble", "visca"])
def test_calibrate_fits_a_camera_lens_through_its_own_protocol(tmp_path: Path, connect):
    """The camera's focus turns the rig's glass through a curve only the test knows."""
    driver, camera_focus, near_to_far, close = connect()

    def dioptres(native: float) -> float:  # near end 0.35 m, far end infinity
        return 2.9 * (1.0 - near_to_far(native)) ** 1.4

    units = driver.capabilities.units
    source = SimSource.from_file(CHART)
    source.focus_readout = lambda: dioptres(camera_focus())
    guard = GuardedDriver(driver, None, SafetyLimits(driver.capabilities.limits), clock=lambda: source.media_t)
    plan = CalibrationPlan((0.5, 1.0, 2.0, 5.0), tmp_path / "cam.toml", "cam", None, (), prompt=False)
    try:
        lens, lens_map = calibrate(plan, guard, units, source, say=io.StringIO())
    finally:
        guard.close()
        close()
    assert lens.units == units
    for distance in (0.5, 0.7, 1.0, 1.5, 2.0, 3.0, 5.0):
        assert abs(dioptres(lens_map.to_native(1 / distance)) - 1 / distance) < DOF_DPT, distance
