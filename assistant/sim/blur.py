"""Blur kernels and filters: the lens's defocus disk and the shutter's motion streak."""

from __future__ import annotations

import math

import cv2
import numpy as np


def disk_kernel(diameter: float) -> np.ndarray:
    """A normalised pillbox kernel, anti-aliased by 5x5 supersampling of each tap."""
    radius = diameter / 2.0
    half = max(0, math.ceil(radius - 0.5))
    offsets = (np.arange(5) + 0.5) / 5.0 - 0.5
    taps = np.arange(-half, half + 1, dtype=np.float64)
    sub = (taps[:, None] + offsets[None, :]).ravel()
    inside = (sub[:, None] ** 2 + sub[None, :] ** 2) <= radius * radius
    n = 2 * half + 1
    kernel = inside.reshape(n, 5, n, 5).mean(axis=(1, 3))
    return (kernel / kernel.sum()).astype(np.float32)


def pillbox_blur(image: np.ndarray, diameter: float) -> np.ndarray:
    """Blur with a disk of ``diameter`` px; disks of 5 px and more on a reduced copy.

    The reduction (area average down, bilinear up) adds a little blur of its
    own that grows with the factor, so the result still blurs more as the
    diameter grows, and costs a few ms instead of tens.
    """
    if diameter < 1.0:
        return image
    factor = max(1, int(diameter / 2.5))
    if factor <= 1:
        return cv2.filter2D(image, -1, disk_kernel(diameter), borderType=cv2.BORDER_REPLICATE)
    h, w = image.shape[:2]
    small = cv2.resize(image, (max(1, w // factor), max(1, h // factor)), interpolation=cv2.INTER_AREA)
    small = cv2.filter2D(small, -1, disk_kernel(diameter / factor), borderType=cv2.BORDER_REPLICATE)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def line_kernel(length: float, angle: float) -> np.ndarray:
    """A normalised line (streak) kernel ``length`` px long at ``angle`` radians, anti-aliased.

    Points along the segment are spread bilinearly onto the taps, so a streak
    a fraction of a pixel longer or turned slightly differs from its neighbour.
    It is symmetric about its centre, so correlation (filter2D) = convolution.
    """
    half = length / 2.0
    r = math.ceil(half) + 1
    n = 2 * r + 1
    s = np.linspace(-half, half, max(2, math.ceil(length * 8) + 1))
    xs, ys = r + s * math.cos(angle), r + s * math.sin(angle)
    x0, y0 = np.floor(xs).astype(int), np.floor(ys).astype(int)
    fx, fy = xs - x0, ys - y0
    kernel = np.zeros((n, n), np.float64)
    for dx, dy, wgt in ((0, 0, (1 - fx) * (1 - fy)), (1, 0, fx * (1 - fy)), (0, 1, (1 - fx) * fy), (1, 1, fx * fy)):
        np.add.at(kernel, (y0 + dy, x0 + dx), wgt)
    kernel = 0.5 * (kernel + kernel[::-1, ::-1])  # exactly point-symmetric despite rounding
    return (kernel / kernel.sum()).astype(np.float32)


def streak_blur(image: np.ndarray, streak: tuple[float, int, int]) -> np.ndarray:
    """Smear ``image`` along a quantised streak (see :func:`quantise_streak`); borders replicate."""
    length, step, bins = streak
    return cv2.filter2D(image, -1, line_kernel(length, step * math.pi / bins), borderType=cv2.BORDER_REPLICATE)


def streak_pad(streak: tuple[float, int, int] | None) -> int:
    """Pixels a streak spreads a sprite on each side."""
    return 0 if streak is None else math.ceil(streak[0] / 2.0) + 1
