"""``focus-assistant devices`` lists the focus drivers it can find, and says what it could not search."""

from __future__ import annotations

from types import SimpleNamespace

from assistant import devices
from assistant.cli import main


def test_devices_lists_usb_serial_controllers_and_explains_bluetooth_and_network_cameras(monkeypatch, capsys):
    ports = [SimpleNamespace(device="/dev/ttyACM0", description="Arduino Uno", hwid="USB VID:PID=2341:0043"),
             SimpleNamespace(device="/dev/ttyS0", description="n/a", hwid="n/a")]
    monkeypatch.setattr("serial.tools.list_ports.comports", lambda: ports)
    assert main(["devices"]) == 0
    out = capsys.readouterr().out
    section = out.split("Focus drivers:\n")[1].split("Audio outputs:")[0]
    lines = section.splitlines()
    assert lines[0] == "  /dev/ttyACM0  Arduino Uno  --driver serial:/dev/ttyACM0"
    assert "ttyS0" not in section
    # No bleak here, or no adapter: a note, never a traceback or a hang.
    assert "Bluetooth LE cameras not searched" in lines[1] or "Bluetooth unavailable" in lines[1]
    assert "visca://HOST" in lines[2] and "bmd://HOST" in lines[2]


def test_no_serial_port_says_what_a_controller_looks_like(monkeypatch):
    monkeypatch.setattr("serial.tools.list_ports.comports", lambda: [])
    assert "no serial ports" in devices.describe_devices(ble_scan_s=0.1)
