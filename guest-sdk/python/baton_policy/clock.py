"""Time: the host's monotonic clock and a host-side wait."""

from datetime import timedelta

from . import _bindings


def _clock():
    return _bindings.need(_bindings.clock, "baton:policy/clock")


def monotonic_ns() -> int:
    """Monotonic nanoseconds (only differences mean anything)."""
    return _clock().monotonic_ns()


def sleep_ms(ms: int) -> None:
    """Waits in the host for up to `ms` milliseconds. The host cuts the wait
    short so the evaluation keeps budget to finish: it may return at once,
    so bound any loop around it by a count, not only by the clock. (Prefer
    this to time.sleep, which the host ends at the deadline, failing the
    check.)"""
    _clock().sleep_ms(ms)


class Instant:
    """A point on the host's monotonic clock."""

    __slots__ = ("ns",)

    def __init__(self, ns: int):
        self.ns = ns

    @classmethod
    def now(cls) -> "Instant":
        return cls(monotonic_ns())

    def elapsed_ns(self) -> int:
        return max(0, monotonic_ns() - self.ns)

    def elapsed(self) -> timedelta:
        return timedelta(microseconds=self.elapsed_ns() / 1000)
