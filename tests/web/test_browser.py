"""The web monitor's page in a real headless browser, against a real ``live --serve`` run.

Debian's ``chromium`` and ``chromium-driver`` (``make setup`` installs them with
apt), driven by Selenium with the driver's path given, so Selenium Manager never
downloads anything. Each test starts ``focus-assistant live --source sim
--headless --serve 127.0.0.1:PORT`` on a free port and reads its events file
after stopping it (SIGTERM, as Ctrl-C).

What the demo scene does on its own (config/scenes/two_people.toml): A (#1, at
2 m, left) and B (#2, at 3.8 m, right) are found and labelled in the first
frames; the scripted focus puller racks from A to B between 2.5 s and 3.5 s, and
in suggest mode the guide follows that observed rack, so B is the target from
about 3.5 s on. The operator test therefore taps A after that: the target shown
goes back to A, the guide logs a suggested ``pull`` to #1 (the lens is on B),
and rack B then logs a ``rack`` from #1 to #2 with origin ``suggested``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from selenium.webdriver.common.actions import interaction
from selenium.webdriver.common.actions.action_builder import ActionBuilder
from selenium.webdriver.common.actions.pointer_input import PointerInput
from selenium.webdriver.common.by import By

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))
from web_screenshot import CHROMEDRIVER, CHROMIUM, chromium, free_port, viewport  # noqa: E402  (one browser set-up)

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="Debian's chromium and chromedriver")

OPERATOR = "operator-secret-token"
VIEWER = "viewer-secret-token"
PHONE = (412, 915)      # portrait phone, touch
TABLET = (1024, 768)    # landscape tablet
LAYOUTS = {"phone portrait": PHONE, "phone landscape": (915, 412), "tablet portrait": (768, 1024),
           "tablet landscape": TABLET, "laptop": (1440, 900)}


# ---------------------------------------------------------------------------------------------- the run
@dataclass
class Run:
    process: subprocess.Popen
    port: int
    folder: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def stop(self) -> str:
        """Stop it as Ctrl-C does (every output closed); its log."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return (self.folder / "run.log").read_text()

    def events(self) -> list[dict]:
        path = self.folder / "events.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def start_run(folder: Path, max_frames: int) -> Run:
    """``live --serve`` on a free port, answering before this returns (a port taken meanwhile: try another)."""
    for _attempt in range(3):
        port = free_port()
        with open(folder / "run.log", "w") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "assistant", "live", "--source", "sim", "--headless", "--no-audio",
                 "--serve", f"127.0.0.1:{port}", "--token", OPERATOR, "--viewer-token", VIEWER,
                 "--events", "events.jsonl", "--max-frames", str(max_frames)],
                cwd=folder, stdout=log, stderr=subprocess.STDOUT)
        run = Run(process, port, folder)
        deadline = time.monotonic() + 60
        while process.poll() is None and time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    return run
            except OSError:
                time.sleep(0.1)
        log_text = run.stop()
        if "address" not in log_text.lower():
            break
    pytest.fail(f"live --serve did not come up:\n{log_text}")


@pytest.fixture
def live_run(tmp_path: Path):
    runs: list[Run] = []

    def start(max_frames: int = 330) -> Run:
        runs.append(start_run(tmp_path, max_frames))
        return runs[-1]

    yield start
    for run in runs:
        run.stop()


# ---------------------------------------------------------------------------------------------- the browser
@pytest.fixture
def browser():
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK)]
    assert not missing, f"missing {missing}: run 'make setup' (installs chromium and chromium-driver with apt)"
    driver = chromium(*TABLET)  # the same browser set-up as make web-screenshot
    yield driver
    driver.quit()


def wait_for(driver, script: str, what: str, timeout_s: float = 20.0):
    """Poll JavaScript ``script`` until it returns something truthy; that value."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = driver.execute_script(script)
        if value:
            return value
        if time.monotonic() > deadline:
            logs = "\n".join(entry["message"] for entry in driver.get_log("browser"))
            pytest.fail(f"the page did not show {what} within {timeout_s:.0f} s; browser console:\n{logs}")
        time.sleep(0.05)


STATE_NOW = "window.focusMonitor && window.focusMonitor.state()"
STATE = f"return {STATE_NOW}"


def page_state(driver) -> dict:
    return driver.execute_script(STATE)


def wait_for_live_picture(driver) -> None:
    """The picture has arrived and moves: the page's state advances and two shots of the picture differ."""
    wait_for(driver, "return document.getElementById('stream').naturalWidth > 0", "the picture")
    first = wait_for(driver, "return +document.body.dataset.frame >= 0 && +document.body.dataset.frame", "a frame")
    wait_for(driver, f"return +document.body.dataset.frame > {first}", "the frame advancing")
    picture = driver.find_element(By.ID, "stream")
    shot = picture.screenshot_as_png
    deadline = time.monotonic() + 10
    while picture.screenshot_as_png == shot:
        assert time.monotonic() < deadline, "the picture on the page does not change"
        time.sleep(0.2)


def tap(driver, x: float, y: float, touch: bool) -> None:
    """A finger's tap (or a mouse click) at viewport point (x, y)."""
    kind = interaction.POINTER_TOUCH if touch else interaction.POINTER_MOUSE
    actions = ActionBuilder(driver, mouse=PointerInput(kind, "finger" if touch else "mouse"))
    actions.pointer_action.move_to_location(round(x), round(y)).pointer_down().pause(0.05).pointer_up()
    actions.perform()


def press(driver, element_id: str, touch: bool) -> None:
    """A finger on a button, as a user does it: scrolled to the middle of the screen (clear of the sticky STOP)."""
    button = driver.find_element(By.ID, element_id)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", button)
    rect = driver.execute_script("const r = arguments[0].getBoundingClientRect();"
                                 "return [r.x, r.y, r.width, r.height];", button)
    tap(driver, rect[0] + rect[2] / 2, rect[1] + rect[3] / 2, touch)


def face_point(driver, subject: dict) -> tuple[float, float]:
    """Where subject's face is on the screen: its box's middle, through the displayed picture's size."""
    rect = driver.execute_script("const r = document.getElementById('stream').getBoundingClientRect();"
                                 "return [r.left, r.top, r.width, r.height];")
    width, height = page_state(driver)["frame_size"]
    x, y, w, h = subject["box"]
    return rect[0] + (x + w / 2) * rect[2] / width, rect[1] + (y + h / 2) * rect[3] / height


def script_errors(driver) -> list[str]:
    """The page's own errors in the console (refused requests, logged by the browser itself, are expected)."""
    return [entry["message"] for entry in driver.get_log("browser")
            if entry["level"] == "SEVERE" and "Failed to load resource" not in entry["message"]]


def check_touch_layout(driver, name: str) -> None:
    """Every control a finger can hit (>= 44 px), the picture and STOP on screen, nothing wider than the page."""
    sizes = driver.execute_script(
        "return [...document.querySelectorAll('#controls button')].map(b => {"
        "  const r = b.getBoundingClientRect(); return [b.id, r.width, r.height]; });")
    assert len(sizes) == 13, sizes
    small = [s for s in sizes if s[1] < 44 or s[2] < 44]
    assert not small, f"{name}: buttons under 44 px: {small}"
    overflow = driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{name}: the page is {overflow} px wider than the screen"
    picture = driver.execute_script("const r = document.getElementById('stream').getBoundingClientRect();"
                                    "return [r.width, r.height, r.top, window.innerWidth];")
    assert picture[0] >= 0.4 * picture[3] and picture[1] > 100 and picture[2] < 120, f"{name}: picture {picture}"
    # The emergency stop is on screen without scrolling (sticky on a phone in portrait).
    stop = driver.execute_script("const r = document.getElementById('stop').getBoundingClientRect();"
                                 "return r.top >= 0 && r.bottom <= window.innerHeight && r.height >= 56;")
    assert stop, f"{name}: STOP is not fully on screen"


# ---------------------------------------------------------------------------------------------- the tests
def test_operator_taps_a_face_and_racks_to_b_on_a_phone(live_run, browser):
    run = live_run()
    viewport(browser, PHONE, touch=True)
    browser.get(f"{run.url}?token={OPERATOR}")
    wait_for_live_picture(browser)
    wait_for(browser, "return document.body.dataset.role === 'operator'", "the operator's role")
    assert browser.find_element(By.ID, "viewer-note").get_attribute("hidden") is not None
    check_touch_layout(browser, "phone portrait")

    # After the scene's own rack to B the guide follows B (see the module's docstring).
    state = wait_for(browser, f"const s = {STATE_NOW}; return s && s.frame >= 110 && s.target && s.target.id === 2 "
                              "&& s.subjects.length === 2 && s", "B as the target after the scene's rack", 30)
    assert browser.find_element(By.ID, "state-target").text == "B #2"
    a = next(s for s in state["subjects"] if s["label"] == "A")
    tapped_at = state["frame"]
    tap(browser, *face_point(browser, a), touch=True)  # a finger on A's face in the picture

    # The page asked for select:1; the target shown, the card and the guidance turn to A.
    wait_for(browser, "const s = window.focusMonitor.state(); return s.target && s.target.id === 1",
             "A as the target after the tap")
    assert browser.find_element(By.ID, "state-target").text == "A #1"
    assert "target" in browser.find_element(By.CSS_SELECTOR, ".subject[data-id='1']").get_attribute("class")
    assert "error" != browser.find_element(By.ID, "message").get_attribute("data-kind")

    press(browser, "rack-B", touch=True)
    wait_for(browser, "return document.getElementById('message').textContent === '\u2713 rack:B'",
             "the rack taken")
    wait_for(browser, "const s = window.focusMonitor.state(); return s.events.some(e => e.type === 'rack' && "
                      "e.origin === 'suggested')", "the rack in the page's events")
    assert browser.find_element(By.CSS_SELECTOR, "#events li.rack").is_displayed()
    wait_for(browser, "const s = window.focusMonitor.state(); return s.target && s.target.id === 2",
             "B as the target after the rack")

    # Drive engaged from the page, then the big red STOP (a finger on it): back to suggest, one stop.
    press(browser, "mode-toggle", touch=True)
    wait_for(browser, "return document.getElementById('state-mode').textContent === 'DRIVE'", "DRIVE")
    assert browser.find_element(By.ID, "mode-toggle").text.lower() == "to suggest"
    press(browser, "stop", touch=True)
    wait_for(browser, "return document.getElementById('state-mode').textContent === 'SUGGEST'", "SUGGEST again")
    assert script_errors(browser) == []
    run.stop()

    after_tap = [e for e in run.events() if e["frame_start"] >= tapped_at]
    # The select: the guide's advice for the new target (the lens is on B, at 4 m; A is at 2 m).
    pulls = [e for e in after_tap if e["type"] == "pull" and e["origin"] == "suggested"]
    assert pulls and pulls[0]["to"] == 1 and pulls[0]["distance_to_m"] < pulls[0]["distance_from_m"], after_tap
    # The rack: from the tapped subject to B, asked for (suggest mode), after the select's advice.
    racks = [e for e in after_tap if e["type"] == "rack" and e["origin"] == "suggested"]
    assert len(racks) == 1, after_tap
    assert (racks[0]["from"], racks[0]["to"]) == (1, 2)
    assert racks[0]["frame_start"] >= pulls[0]["frame_start"]
    modes = [e["detail"] for e in after_tap if e["type"] == "mode"]
    assert modes == ["drive (operator)", "emergency stop (was drive)"], modes


def test_viewer_sees_why_a_command_is_refused_and_nothing_happens(live_run, browser):
    run = live_run(max_frames=240)
    viewport(browser, TABLET, touch=False)
    browser.get(f"{run.url}?token={VIEWER}")
    wait_for_live_picture(browser)
    wait_for(browser, "return document.body.dataset.role === 'viewer'", "the viewer's role")
    assert browser.find_element(By.ID, "state-role").text == "viewer"
    assert browser.find_element(By.ID, "viewer-note").is_displayed()
    rack_b = browser.find_element(By.ID, "rack-B")
    assert rack_b.get_attribute("aria-disabled") == "true"

    rack_b.click()  # greyed out, but a tap still asks: the server's refusal says why
    message = browser.find_element(By.ID, "message")
    wait_for(browser, "const m = document.getElementById('message'); return !m.hidden && m.textContent",
             "the refusal")
    assert message.is_displayed()
    assert message.text.startswith("403: ")
    assert "viewer" in message.text
    assert message.get_attribute("data-kind") == "error"

    # Tapping a face is a command too: refused the same way, the target unchanged.
    state = page_state(browser)
    target = state["target"]["id"] if state["target"] else None
    other = next((s for s in state["subjects"] if s["id"] != target), None)
    if other is not None:
        browser.execute_script("document.getElementById('message').hidden = true;")
        tap(browser, *face_point(browser, other), touch=False)
        wait_for(browser, "const m = document.getElementById('message'); return !m.hidden && "
                          "m.textContent.startsWith('403')", "the refused select")

    # The same page fits every screen it is meant for.
    for name, size in LAYOUTS.items():
        viewport(browser, size, touch=name.startswith(("phone", "tablet")))
        time.sleep(0.3)
        check_touch_layout(browser, name)
    assert script_errors(browser) == []
    log = run.stop()

    events = run.events()
    assert not [e for e in events if e["type"] == "rack" and e["origin"] != "observed"], events
    assert not [e for e in events if e["type"] == "mode"], events
    assert "Traceback" not in log


def test_page_without_token_says_how_to_open_it(live_run, browser):
    run = live_run(max_frames=150)
    viewport(browser, PHONE, touch=True)
    browser.get(run.url)
    message = wait_for(browser, "const m = document.getElementById('message'); return !m.hidden && m.textContent",
                       "the missing token")
    assert "token" in message
    browser.get(f"{run.url}?token=not-the-right-one")
    message = wait_for(browser, "const m = document.getElementById('message'); return !m.hidden && "
                                "m.textContent.startsWith('401') && m.textContent", "the 401")
    assert browser.execute_script("return document.body.dataset.connection") == "refused"


def test_a_hidden_page_stops_polling_and_closes_the_picture(live_run, browser):
    run = live_run(max_frames=330)
    viewport(browser, TABLET, touch=True)
    browser.get(f"{run.url}?token={VIEWER}")
    browser.execute_script("performance.setResourceTimingBufferSize(5000);")
    wait_for_live_picture(browser)
    assert get_state(run)["viewers"] == 1
    page = browser.current_window_handle

    browser.switch_to.new_window("tab")  # the monitor's tab goes to the background: document.hidden
    browser.get("about:blank")
    deadline = time.monotonic() + 10
    while get_state(run)["viewers"] != 0:  # the picture's connection is closed
        assert time.monotonic() < deadline, "the hidden page kept its picture stream open"
        time.sleep(0.2)
    time.sleep(2.0)
    browser.switch_to.window(page)  # in front again: polling and the picture come back
    wait_for(browser, "return !document.hidden", "the page visible again")
    wait_for_live_picture(browser)
    assert get_state(run)["viewers"] == 1
    starts = browser.execute_script("return performance.getEntriesByType('resource')"
                                    ".filter(e => e.name.includes('/state?')).map(e => e.startTime);")
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    assert max(gaps) >= 2000, f"no pause in polling while hidden: longest gap {max(gaps):.0f} ms"
    assert sorted(gaps)[len(gaps) // 2] < 600  # while visible it polls several times a second


def get_state(run: Run) -> dict:
    request = urllib.request.Request(f"{run.url}state", headers={"Authorization": f"Bearer {OPERATOR}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.load(response)
