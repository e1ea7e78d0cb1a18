"""Remediation commands named in the config (`[[remedy]]`)."""

from . import _bindings
from ._core import ProbeError


def run(name: str) -> int:
    """Runs remedy `name`, waits for it (host timeout), returns its exit code."""
    try:
        return _bindings.need(_bindings.remedy, "baton:policy/remedy").run(name)
    except _bindings.Err as e:
        raise ProbeError(e.value) from None
