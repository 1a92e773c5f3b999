"""Progress of a transfer, shared by data.gouv.fr uploads and HDH storage transfers."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class UploadProgress:
    """Bytes sent (or read, when hashing) so far; `start` were already done when this run began."""

    sent: int
    total: int
    elapsed: float  # seconds since this run began
    start: int = 0

    @property
    def speed(self) -> float:
        """Bytes per second over this run (what was sent before a resume does not count)."""
        if self.elapsed <= 0:
            return 0.0
        return max(0, self.sent - self.start) / self.elapsed

    @property
    def remaining_seconds(self) -> float | None:
        speed = self.speed
        if speed <= 0:
            return None
        return max(0, self.total - self.sent) / speed

    @property
    def fraction(self) -> float:
        return 1.0 if self.total <= 0 else min(1.0, self.sent / self.total)
