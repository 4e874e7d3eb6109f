"""Build hook: a built wheel carries the checkout's ``config/`` and ``models/``.

Everything else about the package is declared in ``pyproject.toml``. In a checkout
the default config, scenes, cue sheets, lens templates and models stay at the
repository root, where ``assistant/paths.py`` (and the editable install) reads them.
A wheel (``pip install .``, ``pipx install .``) gets a copy of them inside the
package, under ``assistant/_data/``, which ``assistant/paths.py`` falls back to when
no checkout lies beside the package. The restore script ``models/extract_models.py``
(and ``models/__init__.py``, there for the tests) stays in the checkout.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
PACKAGE_DATA_DIR = Path("assistant", "_data")
DATA = {
    "config": ("**/*.toml",),
    "models": ("*.tflite", "README.md", "LICENSE-*.txt"),
}
"""Checkout folder -> the files of it the wheel carries (globs relative to the folder)."""


def data_files() -> list[Path]:
    """The files to copy, relative to the repository root."""
    found: set[Path] = set()
    for folder, patterns in DATA.items():
        for pattern in patterns:
            found.update(path.relative_to(ROOT) for path in (ROOT / folder).glob(pattern) if path.is_file())
    if not any(path.parts[0] == "config" and path.name == "default.toml" for path in found):
        raise SystemExit(f"{ROOT / 'config' / 'default.toml'}: missing; the wheel needs the default config")
    return sorted(found)


class BuildPyWithData(build_py):
    """``build_py`` that also copies ``config/`` and ``models/`` into ``assistant/_data/``."""

    def _data_targets(self) -> list[tuple[Path, Path]]:
        if self.editable_mode:  # the editable install reads the checkout's own folders
            return []
        return [(ROOT / rel, Path(self.build_lib) / PACKAGE_DATA_DIR / rel) for rel in data_files()]

    def run(self) -> None:
        super().run()
        for source, target in self._data_targets():
            self.mkpath(str(target.parent))
            self.copy_file(str(source), str(target), preserve_mode=False)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        return list(super().get_outputs(include_bytecode)) + [str(target) for _, target in self._data_targets()]


setup(cmdclass={"build_py": BuildPyWithData})
