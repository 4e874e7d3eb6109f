"""Ground truth for a rendered frame: each layer's box and blur, where its face lands and whether it shows."""

from __future__ import annotations

from dataclasses import dataclass, replace

from assistant.sim.assets import Asset
from assistant.types import Box


@dataclass(frozen=True)
class LayerTruth:
    """Ground truth for one layer in one rendered frame."""

    name: str
    label: str
    kind: str
    box: Box
    distance_m: float
    coc_px: float
    face_box: Box | None = None  # people only: the face, in frame pixels
    face_visible: bool = True  # False while a nearer layer hides the face's centre, or the person has turned away
    motion_blur_px: float = 0.0  # length of the motion-blur streak over the exposure (0 with the shutter off)


def face_in_frame(asset: Asset, box: Box) -> Box | None:
    """Where the photograph's face lands in the frame, given the layer's on-screen box."""
    if asset.info.face_box is None:
        return None
    scale = box[2] / asset.rgba.shape[1]
    fx, fy, fw, fh = asset.info.face_box
    return (round(box[0] + fx * scale), round(box[1] + fy * scale), round(fw * scale), round(fh * scale))


def with_visibility(truths: tuple[LayerTruth, ...], assets: dict[str, Asset]) -> tuple[LayerTruth, ...]:
    """Mark faces whose centre is covered by a nearer, opaque part of another layer (near first)."""
    out = []
    for i, truth in enumerate(truths):
        if truth.face_box is None:
            out.append(truth)
            continue
        fx, fy, fw, fh = truth.face_box
        cx, cy = fx + fw / 2, fy + fh / 2
        hidden = any(_opaque_at(assets[nearer.name], nearer.box, cx, cy) for nearer in truths[:i])
        out.append(replace(truth, face_visible=truth.face_visible and not hidden))
    return tuple(out)


def _opaque_at(asset: Asset, box: Box, x: float, y: float) -> bool:
    bx, by, bw, bh = box
    if not (bx <= x < bx + bw and by <= y < by + bh):
        return False
    alpha = asset.rgba[..., 3]
    px = int((x - bx) / bw * alpha.shape[1])
    py = int((y - by) / bh * alpha.shape[0])
    return bool(alpha[min(py, alpha.shape[0] - 1), min(px, alpha.shape[1] - 1)] > 0.5)
