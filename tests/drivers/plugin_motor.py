"""A user's plugin focus motor, written the way DESIGN.md says a user would: ten lines, no subclass.

It moves in "steps" toward the last command at a finite speed (wall clock),
like a stepper controller, and records every command it gets. ``MOTORS``
lets the tests look at the instances the CLI made through the factory.
"""

from __future__ import annotations

import os
import time

MOTORS: list["StepperPlugin"] = []


class StepperPlugin:
    units = "steps"
    limits = (0.0, 4000.0)
    max_speed = 40000.0  # steps per second

    def __init__(self, fail_after: int | None = None) -> None:
        self.commands: list[tuple[float, float]] = []  # (monotonic time, steps)
        self.fail_after = fail_after
        self.closed = False
        self._position = 400.0  # 3 m on the test lens, where the drive_walk scene starts its focus
        self._target = 400.0
        self._moved_at = time.monotonic()

    def move_to(self, value: float) -> None:
        if self.fail_after is not None and len(self.commands) >= self.fail_after:
            raise OSError("motor controller stopped answering")
        self._update()
        self.commands.append((time.monotonic(), value))
        self._target = value

    def position(self) -> float:
        self._update()
        return self._position

    def close(self) -> None:
        self.closed = True

    def _update(self) -> None:
        now = time.monotonic()
        reach = self.max_speed * (now - self._moved_at)
        self._moved_at = now
        self._position += max(-reach, min(reach, self._target - self._position))


class LoggingStepper(StepperPlugin):
    """Writes each stop and close to the file named by $FOCUS_TEST_MOTOR_LOG (for runs in a subprocess)."""

    def _log(self, what: str) -> None:
        with open(os.environ["FOCUS_TEST_MOTOR_LOG"], "a") as log:
            log.write(f"{what} {self._position:.1f}\n")

    def stop(self) -> None:
        self._update()
        self._target = self._position
        self._log("stop")

    def close(self) -> None:
        super().close()
        self._log("close")


def make_logging_motor() -> StepperPlugin:
    return LoggingStepper()


def make_motor() -> StepperPlugin:
    MOTORS.append(StepperPlugin())
    return MOTORS[-1]


def make_failing_motor() -> StepperPlugin:
    MOTORS.append(StepperPlugin(fail_after=20))
    return MOTORS[-1]
