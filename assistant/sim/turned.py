"""A person's picture seen from behind: the face painted over with hair, for layers that turn away."""

from __future__ import annotations

import cv2
import numpy as np

from assistant.sim.assets import Asset

TURNED_SUFFIX = "\x00turned"
"""Appended to a layer's name for its turned-away picture, so the two never share a cached sprite."""


def turned_away(asset: Asset) -> Asset:
    """The person seen from behind: the face painted over with dark hair, so no face detector finds it.

    A soft-edged oval a little larger than the face box takes the colour of
    the hair (or hat) just above the face, darkened, with faint vertical
    strands and a top-to-bottom shading; a flat skin-toned oval is still
    read as a face by BlazeFace about a third of the time, this about one
    search in thirty. The head's outline and the body are unchanged (same
    alpha), so the person still stands there at the same depth.
    """
    fx, fy, fw, fh = asset.info.face_box  # type: ignore[misc]  # only people with a face box are turned
    rgba = asset.rgba.copy()
    h, w = rgba.shape[:2]
    hair = rgba[max(0, round(fy - 0.3 * fh)):max(1, fy), fx:fx + fw]
    tone = 0.4 * (hair[..., :3] / np.maximum(hair[..., 3:], 1e-6)).reshape(-1, 3).mean(axis=0)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    r = np.sqrt(((xx - fx - fw / 2.0) / (0.75 * fw)) ** 2 + ((yy - fy - fh / 2.0) / (0.75 * fh)) ** 2)
    cover = np.clip((1.0 - r) / 0.15, 0.0, 1.0)[..., None]
    strands = cv2.GaussianBlur(np.random.default_rng(7).normal(0.0, 1.0, (h, w)).astype(np.float32), (0, 0),
                               sigmaX=max(1.0, fw / 60.0), sigmaY=fh / 8.0)
    shade = (1.1 - 0.2 * np.clip((yy - fy) / fh, 0.0, 1.0)) * (1.0 + 0.2 * strands / (strands.std() + 1e-6))
    blob = tone[None, None, :] * shade[..., None] * rgba[..., 3:]
    rgba[..., :3] = rgba[..., :3] * (1.0 - cover) + blob * cover
    return Asset(asset.name, asset.info, rgba)
