"""Commands from browsers on their way to the loop: the words read, and a small thread-safe inbox.

``POST /command`` (the server's thread) reads the text with :func:`web_command`,
posts a :class:`PendingCommand` and waits; the sink (the loop's thread) takes at
most one per frame and returns it from ``consume``, so it goes through the same
handling as a key; the pipeline tells the sink the outcome
(``Sink.on_command_result``), which answers the waiting request. A command the
loop has not taken when the request gives up is expired, never carried out late.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable

from assistant.commands import Command, Quit, UnknownCommand, parse_command

NOT_FROM_THE_WEB = (Quit,)
"""Ending the run is for whoever started it, not a tablet on the network."""
MAX_COMMAND_CHARS = 64


def web_command(text: str) -> Command:
    """The command ``text`` names, in the keys' words (``commands.parse_command``, which also takes DESIGN.md's
    ``stop``, ``go`` and ``nudge:+0.05``), unless it is too long or not for the web. ValueError with the reason."""
    if len(text) > MAX_COMMAND_CHARS:
        raise ValueError(f"a command is at most {MAX_COMMAND_CHARS} characters, got {len(text)}")
    try:
        command = parse_command(text)
    except UnknownCommand:
        raise
    except ValueError as exc:  # select:x, select_at:1, nudge:+x
        raise ValueError(f"{text}: {exc}") from exc
    if isinstance(command, NOT_FROM_THE_WEB):
        raise ValueError(f"{text}: not taken from the web monitor")
    return command


class PendingCommand:
    """One posted command: waiting, then taken by the loop (and finished with its outcome) or expired."""

    def __init__(self, command: Command, answer: Callable[[str | None], None]) -> None:
        self.command = command
        self._answer = answer
        self._lock = threading.Lock()
        self._state = "waiting"

    def claim(self) -> bool:
        """The loop takes it; False when the request already gave up on it."""
        with self._lock:
            if self._state != "waiting":
                return False
            self._state = "taken"
            return True

    def expire(self) -> bool:
        """The request gives up; False when the loop has already taken it (its outcome is on the way)."""
        with self._lock:
            if self._state != "waiting":
                return False
            self._state = "expired"
            return True

    def finish(self, refusal: str | None) -> None:
        """The outcome: None carried out, else why not. Answered once."""
        with self._lock:
            if self._state == "finished":
                return
            self._state = "finished"
        self._answer(refusal)


class Inbox:
    """Posted commands in order, at most ``capacity`` waiting (requests give up after a second anyway)."""

    def __init__(self, capacity: int = 64) -> None:
        self._waiting: deque[PendingCommand] = deque()
        self._lock = threading.Lock()
        self.capacity = capacity

    def post(self, pending: PendingCommand) -> bool:
        """False when full."""
        with self._lock:
            if len(self._waiting) >= self.capacity:
                return False
            self._waiting.append(pending)
            return True

    def take(self) -> PendingCommand | None:
        """The oldest command still waiting (expired ones are dropped), claimed for the loop."""
        with self._lock:
            while self._waiting:
                pending = self._waiting.popleft()
                if pending.claim():
                    return pending
        return None

    def drain(self) -> list[PendingCommand]:
        """Everything still waiting (the run is ending)."""
        with self._lock:
            taken = [p for p in self._waiting if p.claim()]
            self._waiting.clear()
        return taken
