# Focus Assistant. `make demo` and `make test` each do their own set-up.
PYTHON ?= python3
VENV := .venv
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
OUT := out
# The README's picture: 3 s into the demo with the magnifier on (tests/test_screenshot.py checks it).
SCREENSHOT := --at 3.0 --command toggle_magnifier

.PHONY: setup demo test bench bench-labels bench-labels-tune bench-drive bench-drive-tune bench-nobody bench-readme screenshot web-screenshot clean

setup: $(STAMP) system-libs

# Re-install only when the package definition changes (idempotent).
$(STAMP): pyproject.toml setup.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# System packages, installed with apt when missing and apt is there:
# PortAudio for sounddevice; Xvfb and xdotool for the real-window test; Chromium and its
# chromedriver for the web monitor's browser tests and `make web-screenshot`.
.PHONY: system-libs
system-libs:
	@missing=""; \
	ldconfig -p 2>/dev/null | grep -q libportaudio.so.2 || missing="$$missing libportaudio2"; \
	command -v Xvfb >/dev/null 2>&1 || missing="$$missing xvfb"; \
	command -v xdotool >/dev/null 2>&1 || missing="$$missing xdotool"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v chromedriver >/dev/null 2>&1 || missing="$$missing chromium-driver"; \
	if [ -z "$$missing" ]; then :; \
	elif command -v apt-get >/dev/null 2>&1; then \
		echo "installing$$missing with apt-get"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	else echo "note: missing$$missing; sound cues are off without PortAudio, the window test needs Xvfb and xdotool," \
		"the browser tests Chromium and chromedriver"; fi

demo: setup
	mkdir -p $(OUT)
	$(VENV)/bin/focus-assistant live --source sim --record $(OUT)/demo.mp4 --record-clean $(OUT)/demo-clean.mp4 \
		--events $(OUT)/events.jsonl --tracks $(OUT)/tracks.jsonl --cue-track $(OUT)/cues.wav
	$(PY) examples/screenshot.py $(SCREENSHOT) $(OUT)/live-view.png
	@echo "demo outputs in $(OUT)/: demo.mp4 (what you saw), demo-clean.mp4 (the camera's picture, for analyze),"
	@echo "  events.jsonl, tracks.jsonl, cues.wav, live-view.png"

test: setup
	$(PY) -m pytest

bench: setup
	$(PY) benchmarks/bench.py

# Labelling judged on 200 generated clips from the held-out seed range (clips cached in .cache/).
bench-labels: setup
	$(PY) benchmarks/labels.py --seeds 7000-7199

# The same on the seed range the thresholds were tuned on.
bench-labels-tune: setup
	$(PY) benchmarks/labels.py --seeds 1000-1199

# Drive mode in closed loop, as an outside tester runs it: the real CLI on 40 generated
# scenarios (held-out seeds) through the plugin contract (scene files cached in .cache/).
bench-drive: setup
	$(PY) benchmarks/drive.py --seeds 7000-7039

# The same on the seed range drive mode may be tuned on.
bench-drive-tune: setup
	$(PY) benchmarks/drive.py --seeds 1000-1039

# False subjects on 5 minutes of clips with nobody in them (walls, posters, props); 9000-9019 held out
# (7000-7019 and 8000-8019 were looked at while the person checks were built).
bench-nobody: setup
	$(PY) benchmarks/nobody.py --seeds 9000-9019

# Run the benchmark and rewrite the results table in README.md.
bench-readme: setup
	$(PY) benchmarks/bench.py --update-readme README.md

screenshot: setup
	$(PY) examples/screenshot.py $(SCREENSHOT) docs/live-view.png

# The web monitor's picture (README): the page in headless Chromium at a tablet's 1024x768.
web-screenshot: setup
	$(PY) examples/web_screenshot.py docs/web-monitor.png

clean:
	rm -rf $(OUT) .pytest_cache
