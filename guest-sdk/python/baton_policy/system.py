"""Read-only facts about this machine."""

from . import _bindings
from ._core import ProbeError


def _system():
    return _bindings.need(_bindings.system, "baton:policy/system")


def process_count(name: str) -> int:
    """Number of live processes whose name (comm) is `name`. Scans every
    process on each call; for "is it up" use `process_running`."""
    return _system().process_count(name)


def process_running(name: str, at_least: int = 1) -> bool:
    """Whether at least `at_least` live processes named `name` run. Cheap
    while they keep running: the host re-checks the ones it found last time."""
    return _system().process_running(name, at_least)


def address_held(address: str) -> bool:
    """Whether `address` is configured on an interface of this node."""
    return _system().address_held(address)


def interface_up(name: str) -> bool:
    """Whether interface `name` is up with carrier (ProbeError if unknown)."""
    try:
        return _system().interface_up(name)
    except _bindings.Err as e:
        raise ProbeError(e.value) from None


def read_file(path: str, max_bytes: int):
    """At most `max_bytes` of a file the config allows (`allow-files`), as
    bytes; None if it does not exist."""
    try:
        return _system().read_file(path, max_bytes)
    except _bindings.Err as e:
        raise ProbeError(e.value) from None
