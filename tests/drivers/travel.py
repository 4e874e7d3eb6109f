"""A motor that travels at a constant speed in whole units, on a clock the emulator passes in."""

from __future__ import annotations


class Travel:
    """Where a motor is at time ``now`` on its way from ``start`` (left at ``t0``) to ``target``."""

    def __init__(self, position: int, speed: float, now: float) -> None:
        self.speed = speed
        self.start = self.target = position
        self.t0 = now

    def position(self, now: float) -> int:
        distance = self.target - self.start
        travelled = int(self.speed * max(0.0, now - self.t0))
        if travelled >= abs(distance):
            return self.target
        return self.start + (travelled if distance > 0 else -travelled)

    def moving(self, now: float) -> bool:
        return self.position(now) != self.target

    def move(self, target: int, now: float) -> float:
        """Head for ``target`` from where the motor is now; when it will arrive."""
        self.start, self.t0, self.target = self.position(now), now, target
        return now + abs(target - self.start) / self.speed

    def set_speed(self, speed: float, now: float) -> None:
        """The new speed applies from ``now`` on, for the rest of the move."""
        self.start, self.t0, self.speed = self.position(now), now, speed

    def halt(self, now: float) -> None:
        self.start = self.target = self.position(now)
        self.t0 = now
