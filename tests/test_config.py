"""Configuration files: defaults, and bad values rejected with the key named."""

from __future__ import annotations

import subprocess
import sys

import pytest

from assistant import paths
from assistant.config import Config, load_config
from assistant.errors import ConfigError
from assistant.schema import load_toml


def test_default_toml_spells_out_the_built_in_defaults():
    from_file = load_toml(Config, paths.DEFAULT_CONFIG)
    assert from_file == Config()
    assert load_config().sim.scene == str(paths.SCENES_DIR / "two_people.toml")


def test_partial_file_keeps_other_defaults_and_resolves_paths_next_to_itself(tmp_path):
    cfg = tmp_path / "mine.toml"
    cfg.write_text('[sharpness]\ngrid_cols = 8\n[sim]\nscene = "scenes/x.toml"\n')
    config = load_config(cfg)
    assert config.sharpness.grid_cols == 8 and config.sharpness.grid_rows == 9
    assert config.sim.scene == str(tmp_path / "scenes" / "x.toml")


def test_a_file_that_names_no_scene_keeps_the_built_in_scene(tmp_path):
    """A user's config with only [suggest] must not send the rig looking for scenes beside it."""
    cfg = tmp_path / "mine.toml"
    cfg.write_text("[suggest]\nfollow_racks = false\n")
    config = load_config(cfg)
    assert config.sim.scene == str(paths.SCENES_DIR / "two_people.toml")
    assert config.suggest.follow_racks is False


@pytest.mark.parametrize(
    "text, message",
    [
        ("[sharpness]\ngird_cols = 8\n", r"sharpness.gird_cols: unknown key; expected one of: analysis_width, exposure_floor, grid_cols"),
        ("[sharpness]\ngrid_cols = \"8\"\n", r"sharpness.grid_cols: expected a whole number, got the string '8'"),
        ("[sharpness]\ngrid_cols = 0\n", r"sharpness.grid_cols: 0 is out of range; expected >= 1 and <= 128"),
        ("[overlay]\npeaking_color = [0, 0]\n", r"overlay.peaking_color: expected a list of 3 values, got 2"),
        ("[overlay]\nheatmap = 1\n", r"overlay.heatmap: expected true or false"),
        ("sharpness = 3\n", r"sharpness: expected a table"),
        ("[sharpness\n", r"not valid TOML .*line 1"),
    ],
)
def test_bad_values_are_rejected_with_file_and_key(tmp_path, text, message):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(text)
    with pytest.raises(ConfigError, match=message) as caught:
        load_config(cfg)
    assert str(caught.value).startswith(str(cfg))


def test_missing_config_file_says_so(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "nope.toml")


def test_cli_turns_a_bad_config_into_one_line_and_exit_code_2(tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[source]\nfps = -5\n")
    run = subprocess.run([sys.executable, "-m", "assistant", "live", "--headless", "--no-audio", "--max-frames", "1",
                          "--config", str(cfg)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    lines = run.stderr.strip().splitlines()
    assert lines == [f"focus-assistant: {cfg}: source.fps: -5.0 is out of range; expected >= 1.0 and <= 240.0"]
