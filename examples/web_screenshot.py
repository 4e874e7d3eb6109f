"""Save the on-set web monitor's page, as a tablet shows it, as a PNG.

    python examples/web_screenshot.py docs/web-monitor.png          # make web-screenshot
    python examples/web_screenshot.py --frame 150 --size 412x915 out/phone.png

Starts ``focus-assistant live --source sim --headless --serve`` on a free local
port, opens the page with the operator's token in headless Chromium (Debian's
``chromium`` and ``chromium-driver``, driven by Selenium with the driver's path
given, so nothing is downloaded), waits until the page shows ``--frame`` (the
virtual rig at 30 fps: frame 90 is 3 s into the demo scene, the rack to B), and
saves the whole page. The run is real time, so a rerun differs by a frame or
two in the picture, not in what the page shows.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
OPERATOR, VIEWER = "operator-token", "viewer-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_state(port: int, token: str) -> dict:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/state", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=2) as response:
        return json.load(response)


@contextmanager
def serve_run(folder: Path, *extra: str, max_frames: int = 360, timeout_s: float = 60.0):
    """A live sim run serving the monitor on a free port; yields the port. Stopped like Ctrl-C on exit."""
    port = free_port()
    log = open(folder / "run.log", "w")
    run = subprocess.Popen(
        [sys.executable, "-m", "assistant", "live", "--source", "sim", "--headless", "--no-audio",
         "--serve", f"127.0.0.1:{port}", "--token", OPERATOR, "--viewer-token", VIEWER,
         "--max-frames", str(max_frames), *extra], cwd=folder, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if run.poll() is not None:
                raise SystemExit(f"focus-assistant live ended ({run.returncode}):\n{(folder / 'run.log').read_text()}")
            try:
                get_state(port, OPERATOR)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit(f"the monitor did not answer on port {port} within {timeout_s:.0f} s")
                time.sleep(0.2)
        yield port
    finally:
        if run.poll() is None:
            run.terminate()  # SIGTERM: the run stops as on Ctrl-C and closes its outputs
            try:
                run.wait(timeout=30)
            except subprocess.TimeoutExpired:
                run.kill()
                run.wait()
        log.close()


def chromium(width: int, height: int, touch: bool = False):
    """Headless Chromium at a ``width`` x ``height`` viewport (CSS pixels, scale 1); the browser tests use it too."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            raise SystemExit(f"{path}: missing; install chromium and chromium-driver (make setup does, with apt)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--hide-scrollbars", "--force-color-profile=srgb", "--no-first-run",
                     "--disable-extensions", "--disable-background-networking", "--disable-component-update",
                     "--disable-sync", "--disable-default-apps", "--mute-audio", f"--window-size={width},{height}"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # the page's console, for the tests
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.implicitly_wait(0)
    viewport(driver, (width, height), touch)
    return driver


def viewport(driver, size: tuple[int, int], touch: bool) -> None:
    """A device's viewport in CSS pixels; ``touch`` also makes it a touch screen (``hover: none``)."""
    width, height = size
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": touch})
    driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": touch, "maxTouchPoints": 5})


def wait_for(driver, script: str, timeout_s: float = 30.0, what: str = ""):
    """Poll ``script`` (JavaScript returning a value) until it is truthy; its value."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = driver.execute_script(script)
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"the page did not show {what or script} within {timeout_s:.0f} s")
        time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="PNG to write")
    parser.add_argument("--frame", type=int, default=90, help="wait until the page shows this frame (default 90)")
    parser.add_argument("--size", default="1024x768", help="viewport WIDTHxHEIGHT in CSS pixels (default: a tablet)")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.lower().split("x"))
    with tempfile.TemporaryDirectory() as scratch, serve_run(Path(scratch), max_frames=args.frame + 300) as port:
        driver = chromium(width, height, touch=width < 1100)
        try:
            driver.get(f"http://127.0.0.1:{port}/?token={OPERATOR}")
            wait_for(driver, "return document.body.dataset.role === 'operator'", what="the operator's state")
            frame = wait_for(driver, f"const f = +document.body.dataset.frame; return f >= {args.frame} && f",
                             timeout_s=90, what=f"frame {args.frame}")
            wait_for(driver, "return document.getElementById('stream').naturalWidth > 0", what="the picture")
            args.out.parent.mkdir(parents=True, exist_ok=True)
            driver.save_screenshot(str(args.out))
        finally:
            driver.quit()
    print(f"wrote {args.out} ({width}x{height}, frame {frame})")


if __name__ == "__main__":
    main()
