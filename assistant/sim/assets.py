"""The rig's photographs: loaded once, premultiplied, with their real-world scale."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from assistant import paths
from assistant.errors import ConfigError
from assistant.schema import limits, read_toml, build

MASKS = ("oval", "rect", "none")


@dataclass(frozen=True)
class AssetInfo:
    """One entry of ``assets.toml``: where a photograph came from and its scale."""

    file: str
    kind: str = field(metadata=limits(choices=("person", "prop", "texture")))
    metres_per_pixel: float = field(metadata=limits(lo=1e-6, hi=1.0))
    mask: str = field(metadata=limits(choices=MASKS))
    origin: str
    licence: str
    sha256: str
    face_box: tuple[int, int, int, int] | None = None  # people: where the face is, in photo pixels


@dataclass(frozen=True)
class Asset:
    """A photograph as premultiplied float32 BGRA (0..255 colour, 0..1 alpha)."""

    name: str
    info: AssetInfo
    rgba: np.ndarray = field(repr=False)

    @property
    def width_m(self) -> float:
        return self.rgba.shape[1] * self.info.metres_per_pixel


class AssetLibrary:
    """Loads photographs by name from a folder with an ``assets.toml`` manifest."""

    def __init__(self, folder: Path = paths.ASSETS_DIR) -> None:
        self.folder = Path(folder)
        manifest = self.folder / "assets.toml"
        raw = read_toml(manifest)
        self.infos = {name: build(AssetInfo, entry, str(manifest), name) for name, entry in raw.items()}
        self._loaded: dict[str, Asset] = {}

    def get(self, name: str) -> Asset:
        """The named asset, loaded on first use."""
        if name not in self._loaded:
            if name not in self.infos:
                raise ConfigError(f"unknown asset {name!r}; available: {', '.join(sorted(self.infos))}")
            info = self.infos[name]
            image = cv2.imread(str(self.folder / info.file), cv2.IMREAD_COLOR)
            if image is None:
                raise ConfigError(f"{self.folder / info.file}: cannot read the photograph; run 'git checkout' to restore it")
            self._loaded[name] = Asset(name, info, _premultiply(image, info.mask))
        return self._loaded[name]

    def verify(self) -> dict[str, bool]:
        """sha256 check of every file against the manifest."""
        return {
            name: hashlib.sha256((self.folder / info.file).read_bytes()).hexdigest() == info.sha256
            for name, info in self.infos.items()
        }


def _premultiply(image: np.ndarray, mask: str) -> np.ndarray:
    h, w = image.shape[:2]
    alpha = _mask(h, w, mask)
    rgba = np.empty((h, w, 4), np.float32)
    rgba[..., :3] = image.astype(np.float32) * alpha[..., None]
    rgba[..., 3] = alpha
    return rgba


def _mask(h: int, w: int, kind: str) -> np.ndarray:
    """A soft-edged alpha mask, so cut-outs do not show hard synthetic edges."""
    if kind == "none":
        return np.ones((h, w), np.float32)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    feather = 0.04 * min(h, w)
    if kind == "oval":
        # Normalised elliptical radius, converted to an approximate pixel distance to the edge.
        r = np.sqrt(((xx - w / 2) / (0.46 * w)) ** 2 + ((yy - h / 2) / (0.49 * h)) ** 2)
        inside = (1.0 - r) * 0.46 * min(h, w)
    else:
        inside = np.minimum.reduce([xx, yy, w - 1 - xx, h - 1 - yy])
    return np.clip(inside / feather, 0.0, 1.0).astype(np.float32)
