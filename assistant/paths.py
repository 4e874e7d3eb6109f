"""Where the data lives (config, scenes, cue sheets, lens templates, models, assets).

Two layouts, found without looking at the working directory:

- **A checkout** (also the editable install of ``make setup``): ``config/`` and
  ``models/`` sit at the repository root, beside the ``assistant`` package, and
  are used from there.
- **An installed wheel** (``pip install .``, ``pipx install .``): the build copies
  them into the package as ``assistant/_data/config`` and ``assistant/_data/models``
  (see ``setup.py``); they are found with :mod:`importlib.resources`.

The checkout wins whenever the package sits in one. ``REPO_ROOT`` is the folder
that holds ``config/`` and ``models/``: the repository root, or the package's
data folder when installed. Relative paths in files are resolved against the
file that names them, never against the working directory.
"""

from importlib import resources
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def _checkout_root() -> Path | None:
    """The repository root when the package sits in a source checkout."""
    root = PACKAGE_DIR.parent
    if (root / "pyproject.toml").is_file() and (root / "config" / "default.toml").is_file():
        return root
    return None


def _installed_root() -> Path:
    """The package's data folder, as a wheel installs it."""
    data = resources.files(__package__ or "assistant") / "_data"
    return data if isinstance(data, Path) else PACKAGE_DIR / "_data"  # zip imports are not supported


_CHECKOUT = _checkout_root()
IN_CHECKOUT = _CHECKOUT is not None
REPO_ROOT = _CHECKOUT or _installed_root()
CONFIG_DIR = REPO_ROOT / "config"
DEFAULT_CONFIG = CONFIG_DIR / "default.toml"
SCENES_DIR = CONFIG_DIR / "scenes"
MODELS_DIR = REPO_ROOT / "models"
ASSETS_DIR = PACKAGE_DIR / "sim" / "assets"


def resolve(path: str | Path, relative_to: Path) -> Path:
    """Resolve ``path`` against the directory of the file that mentioned it."""
    candidate = Path(path).expanduser()
    if candidate.is_absolute():
        return candidate
    return (relative_to.parent / candidate).resolve()
