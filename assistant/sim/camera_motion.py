"""The camera's movement: where the view points (pan, shake, breathing) and how far the shutter smears a layer."""

from __future__ import annotations

from assistant.sim.scene import LayerSpec, Scene, Shake

Camera = tuple[float, float, float]
"""The view at one instant: offset (x, y) in pixels and magnification about the centre."""

STILL: Camera = (0.0, 0.0, 1.0)
"""A camera that neither turns nor breathes: layers land exactly at (x * width, y * height)."""

Shutter = tuple[tuple[float, Camera], tuple[float, Camera]]
"""(time, camera) as the shutter opens and as it closes."""


class CameraMotion:
    """The view of one scene over time: a pan and hand-held shake move it, focus breathing magnifies it.

    Remembers the focus of the last frame (``saw``), so breathing's change
    over the exposure can follow a focus pull.
    """

    def __init__(self, scene: Scene) -> None:
        self.scene = scene
        self.size = (scene.camera.width, scene.camera.height)
        effects = scene.effects
        self.moving = effects.moves_camera
        self._shake = Shake(effects.jitter_px, scene.seed) if effects.jitter_px > 0 else None
        self._exposure_s = effects.exposure_s(scene.camera.fps)
        self._last_focus: tuple[float, float] | None = None  # (t, dpt) of the last frame, for breathing's speed

    def at(self, t: float, focus_dpt: float) -> Camera:
        """Where the view points at ``t``: offset (x, y) in pixels (pan + shake) and breathing's magnification."""
        if not self.moving:
            return STILL
        effects = self.scene.effects
        w, h = self.size
        px, py = effects.pan_at(t)
        ox, oy = px * w, py * h
        if self._shake is not None:
            jx, jy = self._shake.at(t)
            ox, oy = ox + jx, oy + jy
        return ox, oy, effects.magnification(focus_dpt)

    def on_screen(self, x: float, y: float, camera: Camera) -> tuple[float, float]:
        """Where scene point (x, y) (fractions of the frame, as layers are placed) lands in the picture.

        The view turns by the offset, then breathing magnifies about the
        centre: p' = c + m (p - offset - c). With the camera still this is
        exactly (x * width, y * height).
        """
        w, h = self.size
        ox, oy, m = camera
        px, py = x * w, y * h
        return px + (m - 1.0) * (px - w / 2) - m * ox, py + (m - 1.0) * (py - h / 2) - m * oy

    def saw(self, t: float, focus_dpt: float) -> None:
        """Note the frame just rendered at ``t`` with focus at ``focus_dpt`` (for breathing's speed)."""
        self._last_focus = (t, focus_dpt)

    def shutter(self, t: float, focus_dpt: float) -> Shutter | None:
        """(time, camera) as the shutter opens and closes around ``t``, or None with the shutter off.

        Breathing's change over the exposure uses the focus speed since the
        previous frame when that frame was the one just before (a scripted or
        driven pull alike); otherwise focus counts as still.
        """
        if self._exposure_s <= 0.0:
            return None
        half = self._exposure_s / 2.0
        rate = 0.0
        if self.scene.effects.breathing and self._last_focus is not None:
            t0, f0 = self._last_focus
            if 0.0 < t - t0 <= 1.5 / self.scene.camera.fps:
                rate = (focus_dpt - f0) / (t - t0)
        return ((t - half, self.at(t - half, focus_dpt - rate * half)),
                (t + half, self.at(t + half, focus_dpt + rate * half)))

    def streak(self, layer: LayerSpec, shutter: Shutter | None) -> tuple[float, float]:
        """How far (dx, dy) in pixels the layer's centre moves on screen while the shutter is open.

        A backdrop moves only with the view (its centre stands for it; the
        radial smear of breathing is left out).
        """
        if shutter is None:
            return 0.0, 0.0
        (ta, ca), (tb, cb) = shutter
        if layer.fill:
            (xa, ya), (xb, yb) = (0.5, 0.5), (0.5, 0.5)
        else:
            xa, ya, _ = layer.place(ta)
            xb, yb, _ = layer.place(tb)
        ax, ay = self.on_screen(xa, ya, ca)
        bx, by = self.on_screen(xb, yb, cb)
        return bx - ax, by - ay
