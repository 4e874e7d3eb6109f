"""Where the repository's data lives (config, scenes, models, assets).

The package is installed in editable mode by ``make setup``, so the repository
root is the parent of the package directory. Relative paths in files are
resolved against the file that names them, never against the working directory.
"""

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent
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
