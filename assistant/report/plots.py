"""Matplotlib figures for reports, off screen (Agg), saved with one-line errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from assistant.errors import OutputError


def figure(rows: int, height_per_row: float = 3.2) -> tuple[Any, list[Any]]:
    """A figure with ``rows`` stacked axes sharing the time axis."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(rows, 1, figsize=(12, height_per_row * rows + 1), sharex=True, squeeze=False)
    return fig, [row[0] for row in axes]


def save(fig: Any, path: Path, what: str = "report") -> None:
    """Write ``fig`` as a PNG and release it."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    try:
        fig.savefig(path, dpi=100)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write the {what} ({exc.strerror})") from exc
    finally:
        plt.close(fig)
