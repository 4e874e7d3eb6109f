"""Layers point one way: low layers (capture, config, sim, report) load nothing from the layers above them.

Each import is measured in a fresh interpreter, so modules other tests have
already imported do not count.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import assistant

PACKAGE = Path(assistant.__file__).parent


def loaded_by(*modules: str) -> set[str]:
    """The ``assistant`` modules a fresh interpreter holds after importing ``modules``."""
    code = (
        "import importlib, json, sys\n"
        f"for name in {list(modules)!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m == 'assistant' or m.startswith('assistant.'))))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def under(names: set[str], package: str) -> set[str]:
    return {n for n in names if n == package or n.startswith(package + ".")}


def test_the_camera_helper_loads_only_its_own_layer():
    names = loaded_by("assistant.capture.camera")
    assert len(names) <= 8, sorted(names)
    for above in ("assistant.ui", "assistant.focus", "assistant.audio"):
        assert not under(names, above), f"importing assistant.capture.camera loads {sorted(under(names, above))}"


def test_config_loads_only_settings_leaves():
    names = loaded_by("assistant.config")
    for above in ("assistant.ui", "assistant.audio.player", "assistant.pipeline"):
        assert not under(names, above), f"importing assistant.config loads {sorted(under(names, above))}"
    allowed = {"assistant.focus", "assistant.focus.settings", "assistant.vision", "assistant.vision.settings"}
    heavy = (under(names, "assistant.focus") | under(names, "assistant.vision")) - allowed
    assert not heavy, f"importing assistant.config loads {sorted(heavy)}"


def test_the_simulator_loads_nothing_from_focus():
    # Everything any one sim module loads is in what all of them load together.
    sim = sorted(f"assistant.sim.{p.stem}" for p in (PACKAGE / "sim").glob("*.py") if p.stem != "__init__")
    assert sim
    names = loaded_by("assistant.sim", *sim)
    assert not under(names, "assistant.focus"), f"importing assistant.sim loads {sorted(under(names, 'assistant.focus'))}"


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports absolutely, at the top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_report_does_not_import_rehearse():
    files = sorted((PACKAGE / "report").glob("*.py"))
    assert files
    for path in files:
        wrong = under(imported_modules(path), "assistant.rehearse")
        assert not wrong, f"{path.relative_to(PACKAGE.parent)} imports {sorted(wrong)}"
