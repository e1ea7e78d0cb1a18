"""Network probes; every target must match the policy's `allow` patterns.

A call that gets no answer raises `baton_policy.ProbeError` (kind "denied",
"timeout", "refused" or "failed"); left uncaught it fails the check with
the Rust SDK's text ("timed out", "refused", "denied by allowlist: ...").
"""

from datetime import timedelta

from . import _bindings
from ._core import ProbeError


def _probe():
    return _bindings.need(_bindings.probe, "baton:policy/probe")


def tcp_connect(host: str, port: int, timeout_ms: int) -> timedelta:
    """Opens and closes a TCP connection to `host:port`; returns how long the
    connect took. The host caps `timeout_ms` to the evaluation's budget."""
    try:
        return timedelta(microseconds=_probe().tcp_connect(host, port, timeout_ms))
    except _bindings.Err as e:
        raise ProbeError(e.value) from None


def http_get(url: str, timeout_ms: int, max_body: int = 0):
    """HTTP/1.1 GET of an `http://` URL: a response with `status` and `body`
    (bytes, at most `max_body` of them; 0: status only)."""
    try:
        return _probe().http_get(url, timeout_ms, max_body)
    except _bindings.Err as e:
        raise ProbeError(e.value) from None
