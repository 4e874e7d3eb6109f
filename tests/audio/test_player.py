"""The player: the real PortAudio stream on an ALSA null device, and the silent fallback."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap

import numpy as np

from assistant.audio.player import SilentPlayer, open_player
from assistant.audio.synth import cue_buffers

NULL_ALSA = "pcm.!default { type null }\nctl.!default { type hw card 0 }\n"


def test_plays_every_cue_through_the_real_portaudio_stream_on_a_null_device(tmp_path):
    """A separate process, so the ALSA configuration (default output = null) applies only here."""
    config = tmp_path / "asound.conf"
    config.write_text(NULL_ALSA)
    script = textwrap.dedent("""
        import time
        from assistant.audio.player import StreamPlayer
        from assistant.audio.synth import CUE_NAMES, cue_buffers
        player = StreamPlayer(cue_buffers(48000), 48000, blocksize=256)
        for name in CUE_NAMES:
            player.play(name, 0.5, time.monotonic())
        deadline = time.monotonic() + 5
        while player.played < len(CUE_NAMES) and time.monotonic() < deadline:
            time.sleep(0.01)
        player.close()
        print(player.played, len(player.latencies_ms), max(player.latencies_ms), player.underflows)
    """)
    env = dict(os.environ, ALSA_CONFIG_PATH=str(config))
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=env)
    assert run.returncode == 0, run.stderr
    played, started, worst_ms, underflows = run.stdout.split()
    assert int(played) == 8 and int(started) == 8
    assert float(worst_ms) < 50.0
    assert int(underflows) == 0


def test_without_an_output_device_one_warning_then_silence():
    warnings = io.StringIO()
    player = open_player(cue_buffers(48000), 48000, device="no such output device", warn=warnings)
    assert isinstance(player, SilentPlayer) and not player.available
    lines = warnings.getvalue().splitlines()
    assert len(lines) == 1 and lines[0].startswith("focus-assistant: warning: no sound")
    player.play("rack_start", 1.0, 0.0)  # never raises, never blocks
    player.close()


def test_without_portaudio_one_warning_then_silence(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_portaudio(name, *args, **kwargs):
        if name == "sounddevice":
            raise OSError("PortAudio library not found")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_portaudio)
    warnings = io.StringIO()
    player = open_player(cue_buffers(48000), 48000, warn=warnings)
    assert isinstance(player, SilentPlayer)
    assert "install libportaudio2" in warnings.getvalue()


def test_the_mixer_mixes_queued_cues_without_exceeding_full_scale():
    """Drive the mixer block by block, as the PortAudio callback does, with two loud cues overlapping."""
    from assistant.audio.player import CueMixer

    mixer = CueMixer({"a": np.full(1000, 0.8, np.float32), "b": np.full(300, 0.8, np.float32)}, clock=lambda: 1.010)
    mixer.queue("a", 1.0, 1.0)
    mixer.queue("b", 1.0, 1.0)
    out = np.zeros(256, np.float32)
    mixer.mix(out)
    assert np.max(out) == 1.0  # 0.8 + 0.8 clipped, not wrapped
    assert np.allclose(list(mixer.latencies_ms), [10.0, 10.0])  # queued at 1.000, first sample at 1.010
    assert mixer.sounding == 2 and len(mixer.mix_ms) == 1
    for _ in range(4):
        mixer.mix(out)
    assert mixer.played == 2 and mixer.sounding == 0
    assert np.all(out == 0)
