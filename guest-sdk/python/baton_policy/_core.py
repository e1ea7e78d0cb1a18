"""Verdicts, errors, settings and the export wrapper: the Python side of the
Rust SDK's `Verdict`, `Error`, `Settings` and `Policy` (guest-sdk/src/lib.rs),
with the same messages.
"""

import sys
import traceback
from collections.abc import Mapping

from . import _bindings, _rust
from ._rust import debug_str


class Error(Exception):
    """A policy error: raised from `check` (or anything it calls), it becomes
    `failed(message)`, exactly the message, as an `Err` does in Rust."""

    def __init__(self, message):
        self.message = str(message)
        super().__init__(self.message)

    def __str__(self):
        return self.message


def describe_probe_error(error) -> str:
    """The text of a WIT `probe-error` (as the Rust SDK's `Error::from`):
    `denied by allowlist: WHAT`, `timed out`, `refused`, or the host's text."""
    kind = type(error).__name__
    if kind == "ProbeError_Denied":
        return f"denied by allowlist: {error.value}"
    if kind == "ProbeError_Timeout":
        return "timed out"
    if kind == "ProbeError_Refused":
        return "refused"
    if kind == "ProbeError_Failed":
        return str(error.value)
    return f"unexpected probe error {error!r}"


_KINDS = {
    "ProbeError_Denied": "denied",
    "ProbeError_Timeout": "timeout",
    "ProbeError_Refused": "refused",
    "ProbeError_Failed": "failed",
}


class ProbeError(Error):
    """A capability call gave no answer. `kind` is "denied", "timeout",
    "refused" or "failed"; `error` the WIT value; the message is
    `describe_probe_error(error)`, so an uncaught one fails the check with
    the reason a Rust policy's `?` would give."""

    def __init__(self, error):
        self.error = error
        self.kind = _KINDS.get(type(error).__name__, "failed")
        super().__init__(describe_probe_error(error))


class Verdict:
    """What `check` returns: build it with `healthy()` or `failed(reason)`."""

    __slots__ = ("reason_", "weight_override")

    def __init__(self, reason=None, weight_override=None):
        # None: healthy; a string: failed with that reason.
        self.reason_ = reason
        self.weight_override = weight_override

    def weight(self, weight: int) -> "Verdict":
        """This verdict, overriding the config's weight for this evaluation
        (keepalived's semantics: positive adds while healthy, negative
        subtracts while failed, 0 means FAULT while failed). An s32."""
        if isinstance(weight, bool) or not isinstance(weight, int):
            raise TypeError(f"weight must be an int, not {type(weight).__name__}")
        lo, hi = _rust.INT_RANGES["i32"]
        if not lo <= weight <= hi:
            raise ValueError(f"weight {weight} is out of range for an s32")
        return Verdict(self.reason_, weight)

    def is_healthy(self) -> bool:
        return self.reason_ is None

    def reason(self):
        """The failure reason, or None if healthy."""
        return self.reason_

    def __eq__(self, other):
        return (
            isinstance(other, Verdict)
            and self.reason_ == other.reason_
            and self.weight_override == other.weight_override
        )

    def __repr__(self):
        health = "healthy()" if self.reason_ is None else f"failed({self.reason_!r})"
        if self.weight_override is None:
            return health
        return f"{health}.weight({self.weight_override})"


def healthy() -> Verdict:
    """A healthy verdict, with the config's weight."""
    return Verdict()


def failed(reason) -> Verdict:
    """A failed verdict with its reason (logged by the daemon, shown in status)."""
    return Verdict(str(reason))


class Settings:
    """The policy's settings: its `config` table merged with the instance's,
    as strings. When a key repeats, the last value wins (the instance's).

    Errors are `Error`s with the Rust SDK's messages, e.g.
    "missing setting `url`" or
    "setting `port` = \"x1\": expected u16: invalid digit found in string".
    """

    def __init__(self, pairs=()):
        if isinstance(pairs, Mapping):
            pairs = pairs.items()
        self._pairs = [(str(k), str(v)) for k, v in pairs]

    def get(self, key: str, default=None):
        """The value of `key` if set, else `default`."""
        for k, v in reversed(self._pairs):
            if k == key:
                return v
        return default

    def get_or(self, key: str, default: str) -> str:
        """The value of `key`, or `default`."""
        return self.get(key, default)

    def require(self, key: str) -> str:
        """The value of `key`, or the error "missing setting `key`"."""
        value = self.get(key)
        if value is None:
            raise Error(f"missing setting `{key}`")
        return value

    def contains(self, key: str) -> bool:
        return self.get(key) is not None

    __contains__ = contains

    def parse(self, key: str, kind: str, default=None):
        """`key` parsed as `kind` (trimmed): "u8", "u16", "u32", "u64",
        "i8", "i16", "i32", "i64" or "f64", as Rust parses that type; `default`
        if unset; an error naming the key and value if it does not parse."""
        raw = self.get(key)
        if raw is None:
            return default
        return _parse_value(key, raw, kind)

    def parse_or(self, key: str, kind: str, default):
        """`key` parsed as `kind`, or `default` when unset."""
        return self.parse(key, kind, default)

    def require_parse(self, key: str, kind: str):
        """`key` parsed as `kind`; missing is an error."""
        return _parse_value(key, self.require(key), kind)

    def get_u16(self, key: str, default=None):
        """`key` as a u16 (ports, status codes)."""
        return self.parse(key, "u16", default)

    def get_u32(self, key: str, default=None):
        """`key` as a u32 (timeouts in ms, sizes)."""
        return self.parse(key, "u32", default)

    def get_u64(self, key: str, default=None):
        return self.parse(key, "u64", default)

    def get_i32(self, key: str, default=None):
        """`key` as an i32 (weights)."""
        return self.parse(key, "i32", default)

    def get_f64(self, key: str, default=None):
        return self.parse(key, "f64", default)

    def get_bool(self, key: str, default=None):
        """`key` as a boolean: true/false, yes/no, on/off, 1/0 (any case)."""
        raw = self.get(key)
        if raw is None:
            return default
        word = _rust.trim(raw).translate(_ASCII_LOWER)
        if word in ("true", "yes", "on", "1"):
            return True
        if word in ("false", "no", "off", "0"):
            return False
        raise Error(f"setting `{key}` = {debug_str(raw)}: expected true or false")

    def items(self):
        """All pairs, in order (later ones override earlier ones in `get`)."""
        return list(self._pairs)

    def __iter__(self):
        return iter(self._pairs)

    def __len__(self):
        return len(self._pairs)

    def __repr__(self):
        return f"Settings({self._pairs!r})"


# Rust's to_ascii_lowercase: only A-Z change.
_ASCII_LOWER = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}


def _parse_value(key: str, raw: str, kind: str):
    try:
        return _rust.parse(_rust.trim(raw), kind)
    except _rust.ParseError as e:
        raise Error(f"setting `{key}` = {debug_str(raw)}: expected {kind}: {e}") from None


_STATES = {"initialize": "INITIALIZE", "init": "INITIALIZE", "backup": "BACKUP",
           "master": "MASTER", "fault": "FAULT"}
_STATE_NAMES = {"INITIALIZE": "INIT", "BACKUP": "BACKUP", "MASTER": "MASTER", "FAULT": "FAULT"}


def parse_state(s: str):
    """A `VrrpState` from `initialize` (or `init`), `backup`, `master`,
    `fault`, in any case (as the Rust SDK's `VrrpState::from_str`)."""
    member = _STATES.get(_rust.trim(s).translate(_ASCII_LOWER))
    if member is None:
        raise Error(
            f"unknown VRRP state {debug_str(s)} (expected initialize, backup, master or fault)"
        )
    return getattr(_bindings.need(_bindings.types, "VrrpState").VrrpState, member)


def state_name(state) -> str:
    """INIT, BACKUP, MASTER or FAULT (the Rust SDK's `Display`)."""
    return _STATE_NAMES[state.name]


def _describe_exception(e: BaseException) -> str:
    text = str(e)
    name = type(e).__name__
    return f"{name}: {text}" if text else name


def _evaluate(check, pairs, facts) -> Verdict:
    """Runs the author's `check`; whatever it raises becomes a failed verdict."""
    try:
        verdict = check(Settings(pairs), facts)
        if not isinstance(verdict, Verdict):
            return failed(
                f"check returned {type(verdict).__name__}, not a Verdict "
                "(return baton_policy.healthy() or baton_policy.failed(reason))"
            )
        return verdict
    except Error as e:
        return failed(e.message)
    except _bindings.Err as e:
        # A raw binding's `result` error, for policies that call wit_world directly.
        return failed(describe_probe_error(e.value))
    except BaseException as e:  # noqa: BLE001 - anything escaping would trap the component
        # The traceback goes to stderr, which the host keeps in the evaluation's log.
        traceback.print_exception(e)
        return failed(_describe_exception(e))
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001 - a broken stdio must not fail the check
                pass


def to_wit(verdict: Verdict):
    """A `Verdict` as the world's `verdict` record."""
    world = _bindings.need(_bindings.world, "a component export")
    if verdict.reason_ is None:
        health = world.Health_Healthy()
    else:
        # A lone surrogate cannot cross as UTF-8 (it would trap): replace it.
        reason = verdict.reason_.encode("utf-8", "replace").decode("utf-8")
        health = world.Health_Failed(reason)
    return world.Verdict(health=health, weight=verdict.weight_override)


def export(check):
    """Makes `check(settings, facts) -> Verdict` this component's `check`.

    Assign the result to `WitWorld` in the policy's module, the class
    componentize-py looks for:

        WitWorld = baton_policy.export(check)
    """
    if not callable(check):
        raise TypeError("baton_policy.export takes the check function")
    base = _bindings.world.WitWorld if _bindings.world is not None else object

    class WitWorld(base):
        def check(self, settings, facts):
            return to_wit(_evaluate(check, settings, facts))

    WitWorld.__qualname__ = WitWorld.__name__ = "WitWorld"
    WitWorld.policy = staticmethod(check)
    return WitWorld
