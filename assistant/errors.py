"""One exception hierarchy, so the CLI can turn every user mistake into one line.

Each message says what is wrong *and* what to do about it. Wrap lower-level
exceptions with ``raise ... from exc`` so the cause is kept for debugging.
"""


class AssistantError(Exception):
    """Base of every error the assistant raises on purpose."""

    exit_code = 1


class UserInputError(AssistantError):
    """Bad input from the user: exit code 2, one clear line, no traceback."""

    exit_code = 2


class ConfigError(UserInputError):
    """A config, scene, cue or lens file is unreadable or has a bad value."""


class SourceError(UserInputError):
    """A frame source cannot be opened or stopped delivering frames."""


class ModelMissing(UserInputError):
    """A model file the detector needs is not in ``models/``."""


class DriverFault(AssistantError):
    """A focus driver failed while running (a hardware fault, not a typo)."""


class OutputError(UserInputError):
    """An output file (recording, log, report) cannot be written where asked."""
