"""``focus-assistant devices``: cameras and audio outputs this machine offers."""

from __future__ import annotations

import sys
from pathlib import Path

from assistant.drivers.uvc import focus_controls


def describe_devices() -> str:
    return "\n".join(["Cameras:", *_cameras(), "Audio outputs:", *_audio_outputs()])


def _cameras() -> list[str]:
    if not sys.platform.startswith("linux"):
        return ["  (use --source 0, 1, ... ; listing needs Linux V4L2)"]
    by_id = {p.resolve(): p for p in Path("/dev/v4l/by-id").glob("*")} if Path("/dev/v4l/by-id").exists() else {}
    nodes = sorted(Path("/dev").glob("video*"), key=lambda p: int(p.name[5:] or 0) if p.name[5:].isdigit() else 0)
    if not nodes:
        return ["  none found (no /dev/video* devices)"]
    lines = []
    for node in nodes:
        name_file = Path("/sys/class/video4linux") / node.name / "name"
        name = name_file.read_text().strip() if name_file.exists() else "unknown"
        stable = by_id.get(node.resolve())
        focus = focus_controls(node)
        lines.append(f"  {node}  {name}" + (f"  ({stable})" if stable else "") + (f"  {focus}" if focus else ""))
    return lines


def _audio_outputs() -> list[str]:
    try:
        import sounddevice
    except OSError as exc:  # PortAudio library missing
        return [f"  unavailable: {exc}; install PortAudio (apt-get install libportaudio2)"]
    try:
        devices = sounddevice.query_devices()
    except Exception as exc:  # PortAudio present but failing
        return [f"  unavailable: {exc}"]
    outputs = [f"  [{i}] {d['name']} ({d['max_output_channels']} ch)" for i, d in enumerate(devices)
               if d["max_output_channels"] > 0]
    return outputs or ["  none found"]
