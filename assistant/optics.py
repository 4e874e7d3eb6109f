"""Depth-of-field rules shared by the focus controller, the virtual rig and the overlay.

A leaf (standard library only). The thin-lens model of the simulated camera
itself is :mod:`assistant.sim.optics`.
"""

from __future__ import annotations

RIG_DOF_DPT = 0.043
"""Depth of field on each side of focus for the rig's camera, in dioptres (34.2 mm
at f/2 with a 0.025 mm circle of confusion: ``N c / f^2``): the fallback when a
source does not know its own optics."""


def dof_half_width_dpt(focal_length_mm: float, f_number: float, coc_limit_mm: float) -> float:
    """Depth of field on each side of focus, in dioptres: ``N c / f^2``.

    Both sides are exactly ``N c (1 - f/s) / f^2`` for focus at ``s``, so this
    is within 3 % from 1.2 m out (f = 34 mm); a good scale for the dead zone
    (``deadband_dpt`` about half of it).
    """
    if focal_length_mm <= 0 or f_number <= 0 or coc_limit_mm <= 0:
        raise ValueError("focal length, f-number and circle of confusion must all be > 0")
    f = focal_length_mm / 1000.0
    return f_number * (coc_limit_mm / 1000.0) / (f * f)


def dof_from_deadband(deadband_dpt: float) -> float:
    """The depth of field on each side of focus a drive dead zone stands for: twice it
    (``[drive] deadband_dpt`` is set to about half the depth of field)."""
    return 2 * deadband_dpt
