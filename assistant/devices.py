"""``focus-assistant devices``: cameras, focus drivers and audio outputs this machine offers."""

from __future__ import annotations

import sys
from pathlib import Path

from assistant.drivers.uvc import focus_controls


def describe_devices(ble_scan_s: float = 4.0) -> str:
    return "\n".join(["Cameras:", *_cameras(), "Focus drivers:", *_focus_drivers(ble_scan_s),
                      "Audio outputs:", *_audio_outputs()])


def _focus_drivers(ble_scan_s: float) -> list[str]:
    """Serial motor controllers and Blackmagic cameras over Bluetooth; network cameras are named by address."""
    from serial.tools import list_ports

    from assistant.drivers.bmd_ble import discover

    found = sorted(list_ports.comports(), key=lambda port: port.device)
    # hwid "n/a": the motherboard's legacy ttyS ports, which nothing answers on
    ports = [f"  {p.device}  {p.description}  --driver serial:{p.device}" for p in found if p.hwid != "n/a"]
    return [*(ports or ["  no serial ports (a focus motor controller shows up as /dev/ttyUSB* or /dev/ttyACM*)"]),
            *discover(ble_scan_s).lines(),
            "  network cameras are not searched: give --driver visca://HOST (PTZ, VISCA over IP) or bmd://HOST "
            "(Blackmagic REST)"]


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
