"""Installed as a tool (a wheel, not editable), the command brings its own data.

Builds the wheel from a copy of the checkout, installs it into a fresh virtual
environment and runs ``focus-assistant`` from a folder outside the checkout. The
dependencies come from this test's own environment through a plain path line in a
``.pth`` file: the editable install's finder there is not activated that way, so
the checkout cannot be imported and everything must come from the wheel. No network.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

from assistant import paths

CHECKOUT = Path(__file__).resolve().parents[1]
NOT_SOURCE = shutil.ignore_patterns(".git", ".venv", "build", "dist", "out", ".cache", "*.egg-info",
                                    "__pycache__", ".pytest_cache", ".hypothesis")
PROBE = """
import json, assistant, assistant.paths as p
from assistant.config import load_config
print(json.dumps({"package": assistant.__file__, "in_checkout": p.IN_CHECKOUT, "repo_root": str(p.REPO_ROOT),
                  "default_config": str(p.DEFAULT_CONFIG), "scenes": str(p.SCENES_DIR), "models": str(p.MODELS_DIR),
                  "config_dir": str(p.CONFIG_DIR), "assets": str(p.ASSETS_DIR), "scene": load_config().sim.scene}))
"""


def run(args: list[str | Path], cwd: Path, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess:
    result = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{args}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    return result


def test_editable_install_reads_the_checkout() -> None:
    assert paths.IN_CHECKOUT
    assert paths.REPO_ROOT == CHECKOUT
    assert paths.DEFAULT_CONFIG == CHECKOUT / "config" / "default.toml"
    assert paths.MODELS_DIR == CHECKOUT / "models"


def test_wheel_install_runs_outside_the_checkout(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PIP_REQUIRE_VIRTUALENV")}
    env.update(PYTHONNOUSERSITE="1", PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    # Build from a copy, so the checkout gets no build/ folder.
    source = tmp_path / "source"
    shutil.copytree(CHECKOUT, source, ignore=NOT_SOURCE)
    wheels = tmp_path / "wheels"
    built = run([sys.executable, "-m", "pip", "wheel", "--verbose", "--no-deps", "--no-build-isolation", "--no-index",
                 "-w", wheels, source], elsewhere, env)
    # No setuptools deprecation banner about the licence table (issue 16): the SPDX form is used.
    banner = [line for line in (built.stdout + built.stderr).splitlines()
              if "licen" in line.lower() and "deprecat" in line.lower()]
    assert banner == []
    (wheel,) = wheels.glob("focus_assistant-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in ("config/default.toml", "config/scenes/two_people.toml", "config/cues/two_hander.toml",
                 "config/lenses/example-webcam.toml", "models/face_detection_short_range.tflite",
                 "models/selfie_segmentation_landscape.tflite", "models/README.md", "models/LICENSE-mediapipe.txt"):
        assert f"assistant/_data/{name}" in names, name
    assert "assistant/sim/assets/assets.toml" in names
    for name in ("index.html", "app.js", "style.css"):  # the web monitor's page (live --serve)
        assert f"assistant/web/static/{name}" in names, name
    assert not any("extract_models" in n or n.startswith("models/") for n in names)  # the restore script stays home

    # A new environment with the wheel (not editable); dependencies borrowed from this one.
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False, symlinks=os.name != "nt").create(env_dir)
    bindir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    python = bindir / "python"
    run([sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps", "--no-index", wheel],
        elsewhere, env)
    site_dir = Path(run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], elsewhere,
                        env).stdout.strip())
    ours = dict.fromkeys([sysconfig.get_path("purelib"), sysconfig.get_path("platlib")])
    (site_dir / "_test_borrowed_deps.pth").write_text("".join(f"{d}\n" for d in ours))

    probe = json.loads(run([python, "-c", PROBE], elsewhere, env).stdout)
    env_root = env_dir.resolve()
    assert Path(probe["package"]).resolve().is_relative_to(env_root), probe
    assert probe["in_checkout"] is False, probe
    for key in ("repo_root", "default_config", "scenes", "models", "config_dir", "assets", "scene"):
        assert Path(probe[key]).resolve().is_relative_to(env_root), (key, probe)
        assert Path(probe[key]).exists(), (key, probe)
    assert not any(str(CHECKOUT) in str(v) for v in probe.values()), probe
    assert (Path(probe["models"]) / "face_detection_full_range_sparse.tflite").is_file()
    assert (Path(probe["config_dir"]) / "cues" / "two_hander.toml").is_file()

    # The installed command, run from a folder outside the checkout: the demo scene and the models.
    command = bindir / "focus-assistant"
    clip, live_events, events = elsewhere / "clip.mp4", elsewhere / "live.jsonl", elsewhere / "events.jsonl"
    run([command, "live", "--source", "sim", "--headless", "--max-frames", "45", "--no-audio",
         "--record", clip, "--events", live_events], elsewhere, env)
    assert clip.stat().st_size > 0 and live_events.is_file()
    result = run([command, "analyze", clip, "--events", events], elsewhere, env)
    assert events.is_file(), result.stderr
    assert re.search(r"analysed [1-9]\d* frames", result.stderr), result.stderr
