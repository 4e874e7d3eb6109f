"""Constant-velocity Kalman filter steps over one coordinate (pure maths).

State ``x = [position, velocity]`` with covariance ``p`` (2x2 lists); the
motion model allows white acceleration noise of ``accel_sigma``.
"""

from __future__ import annotations

Vector = list[float]
Matrix = list[list[float]]


def predict(x: Vector, p: Matrix, dt: float, accel_sigma: float) -> tuple[Vector, Matrix]:
    """State and covariance ``dt`` seconds later."""
    dt = max(0.0, dt)
    q = accel_sigma * accel_sigma
    moved = [x[0] + dt * x[1], x[1]]
    p00 = p[0][0] + dt * (p[1][0] + p[0][1]) + dt * dt * p[1][1] + q * dt ** 4 / 4
    p01 = p[0][1] + dt * p[1][1] + q * dt ** 3 / 2
    p11 = p[1][1] + q * dt * dt
    return moved, [[p00, p01], [p01, p11]]


def innovation_variance(p: Matrix, r: float) -> float:
    """Variance of (measurement - predicted position) for measurement variance ``r``."""
    return p[0][0] + r


def correct(x: Vector, p: Matrix, z: float, r: float) -> tuple[Vector, Matrix]:
    """Fold in a position measurement ``z`` with variance ``r``."""
    s = innovation_variance(p, r)
    k0, k1 = p[0][0] / s, p[1][0] / s
    innovation = z - x[0]
    return ([x[0] + k0 * innovation, x[1] + k1 * innovation],
            [[(1 - k0) * p[0][0], (1 - k0) * p[0][1]], [p[1][0] - k1 * p[0][0], p[1][1] - k1 * p[0][1]]])
