# Focus Assistant. `make demo` and `make test` each do their own set-up.
PYTHON ?= python3
VENV := .venv
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
OUT := out

.PHONY: setup demo test bench screenshot clean

setup: $(STAMP) system-libs

# Re-install only when the package definition changes (idempotent).
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# PortAudio for sounddevice; installed with apt when missing and apt is there.
.PHONY: system-libs
system-libs:
	@if ldconfig -p 2>/dev/null | grep -q libportaudio.so.2; then :; \
	elif command -v apt-get >/dev/null 2>&1; then \
		echo "installing PortAudio (libportaudio2) with apt-get"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq libportaudio2 >/dev/null; \
	else echo "note: PortAudio (libportaudio2) is missing; sound cues will be off until it is installed"; fi

demo: setup
	mkdir -p $(OUT)
	$(VENV)/bin/focus-assistant live --source sim --record $(OUT)/demo.mp4 \
		--events $(OUT)/events.jsonl --tracks $(OUT)/tracks.jsonl --cue-track $(OUT)/cues.wav
	$(PY) examples/screenshot.py --at 3.0 $(OUT)/live-view.png
	@echo "demo outputs in $(OUT)/: demo.mp4, events.jsonl, tracks.jsonl, cues.wav, live-view.png"

test: setup
	$(PY) -m pytest

bench: setup
	$(PY) benchmarks/bench.py

screenshot: setup
	$(PY) examples/screenshot.py --at 3.0 docs/live-view.png

clean:
	rm -rf $(OUT) .pytest_cache
