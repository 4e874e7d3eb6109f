"""Easing curves for racks: map progress 0..1 to position 0..1."""

from __future__ import annotations

from collections.abc import Callable

EASINGS: dict[str, Callable[[float], float]] = {
    "linear": lambda p: p,
    "s-curve": lambda p: p * p * (3.0 - 2.0 * p),
    "ease-in": lambda p: p * p,
    "ease-out": lambda p: 1.0 - (1.0 - p) * (1.0 - p),
}
"""Curve names as they appear in scene and cue files."""


def ease(name: str, progress: float) -> float:
    """Eased position for ``progress`` (clamped to 0..1) along curve ``name``."""
    try:
        curve = EASINGS[name]
    except KeyError:
        raise ValueError(f"unknown easing {name!r}; expected one of: {', '.join(EASINGS)}") from None
    return curve(min(1.0, max(0.0, progress)))
