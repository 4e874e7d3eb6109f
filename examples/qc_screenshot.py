"""Save ``focus-assistant qc``'s index page, as a browser shows it, as a PNG.

    python examples/qc_screenshot.py docs/qc-index.png          # make qc-screenshot

Makes the generated shooting day of ``examples/qc_day.py`` in a scratch folder, runs ``qc`` over it,
opens ``index.html`` from the files (no server) in headless Chromium (Debian's ``chromium`` and
``chromium-driver`` through Selenium, as ``web_screenshot.py`` does) and saves the whole page. The clips
and their analysis are deterministic, so a rerun gives the same page.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from qc_day import make_day
from web_screenshot import chromium, wait_for


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="PNG to write")
    parser.add_argument("--size", default="1280x900", help="viewport WIDTHxHEIGHT in CSS pixels (default 1280x900)")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.lower().split("x"))
    with tempfile.TemporaryDirectory() as scratch:
        day, out = Path(scratch) / "day", Path(scratch) / "qc"
        make_day(day)
        run = subprocess.run([sys.executable, "-m", "assistant", "qc", str(day), "--out", str(out)],
                             capture_output=True, text=True)
        if run.returncode not in (0, 2):  # 2: the day holds two unreadable files on purpose
            raise SystemExit(f"qc failed ({run.returncode}):\n{run.stderr}")
        driver = chromium(width, height)
        try:
            driver.get((out / "index.html").as_uri())
            wait_for(driver, "return Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)",
                     what="the filmstrips")
            args.out.parent.mkdir(parents=True, exist_ok=True)
            driver.save_screenshot(str(args.out))
        finally:
            driver.quit()
    print(f"wrote {args.out} ({width}x{height})")


if __name__ == "__main__":
    main()
