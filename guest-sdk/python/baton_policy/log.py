"""Logging through the daemon's log, tagged with the policy and instance.
Messages over 4 KiB are cut by the host. (print() works too: stdout is
logged at info, stderr at warn.)"""

from . import _bindings


def _log():
    return _bindings.need(_bindings.log, "baton:policy/log")


def log(level: str, message) -> None:
    """Logs `message` at `level`: "trace", "debug", "info", "warn" or "error"."""
    raw = _log()
    levels = {
        "trace": raw.Level.TRACE,
        "debug": raw.Level.DEBUG,
        "info": raw.Level.INFO,
        "warn": raw.Level.WARN,
        "error": raw.Level.ERROR,
    }
    if level not in levels:
        raise ValueError(f"unknown log level {level!r} (trace, debug, info, warn or error)")
    # A lone surrogate cannot cross as UTF-8 (it would trap): replace it.
    raw.log(levels[level], str(message).encode("utf-8", "replace").decode("utf-8"))


def trace(message) -> None:
    log("trace", message)


def debug(message) -> None:
    log("debug", message)


def info(message) -> None:
    log("info", message)


def warn(message) -> None:
    log("warn", message)


def error(message) -> None:
    log("error", message)
