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


class SourceNotFound(SourceError):
    """The source names nothing that can be opened (no such file, a folder).

    What to give instead depends on the command (``analyze`` reads only video
    files, ``live`` also cameras, streams and plugins), so the message carries
    no hint of its own: the command adds one with :meth:`hinted`.
    """

    def hinted(self, accepts: str) -> str:
        """The message followed by what the command would take, e.g. ``"; give a video file"``."""
        return f"{self}; give {accepts}"


class UnreadableVideo(SourceError):
    """A file that FFmpeg cannot open as a video: damaged, cut short, or not video at all."""


class ModelMissing(UserInputError):
    """A model file the detector needs is not in ``models/``."""


class DriverFault(AssistantError):
    """A focus driver failed while running (a hardware fault, not a typo)."""


class OutputError(UserInputError):
    """An output file (recording, log, report) cannot be written where asked."""


class ServeError(UserInputError):
    """The web monitor (``--serve``) cannot start as asked: a bad address, a port in use, an unreadable
    certificate, a token it cannot use."""
