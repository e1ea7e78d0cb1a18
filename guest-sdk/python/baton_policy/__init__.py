"""baton_policy: write Baton health checks in Python.

A Baton policy is a WebAssembly component for the `health` world of
`baton:policy@0.1.1` (wit/policy.wit). componentize-py turns a Python
module into one; this package is what makes that module short:

    import baton_policy
    from baton_policy import failed, healthy, probe

    def check(settings, facts):
        url = settings.require("url")
        response = probe.http_get(url, settings.get_u32("timeout-ms", 200))
        if response.status != 200:
            return failed(f"{url}: status {response.status}")
        return healthy()

    WitWorld = baton_policy.export(check)

* `export(check)` makes `check(settings, facts) -> Verdict` the component's
  export. Whatever `check` raises becomes `failed(reason)`: an `Error` (a
  missing or bad setting, an uncaught `ProbeError`) its message, any other
  exception "TypeName: message" (with its traceback in the log).
* `healthy()`, `failed(reason)`, `verdict.weight(n)`.
* `Settings`: `get`, `get_or`, `require`, `get_u16`/`get_u32`/`get_u64`/
  `get_i32`/`get_f64`/`get_bool`, `parse`, `parse_or`, `require_parse`,
  with the Rust SDK's messages.
* Capabilities: `probe`, `system`, `remedy`, `vrrp`, `clock`, `log` (and
  the shortcuts `trace`, `debug`, `info`, `warn`, `error`).

Every message matches the Rust SDK's (guest-sdk/src/lib.rs), so a policy
fails with the same reason in both languages.
"""

from . import clock, log, probe, remedy, system, vrrp
from ._core import (
    Error,
    ProbeError,
    Settings,
    Verdict,
    describe_probe_error,
    export,
    failed,
    healthy,
    parse_state,
    state_name,
)
from ._rust import debug_str
from .log import debug, error, info, trace, warn

__all__ = [
    "Error",
    "ProbeError",
    "Settings",
    "Verdict",
    "clock",
    "debug",
    "debug_str",
    "describe_probe_error",
    "error",
    "export",
    "failed",
    "healthy",
    "info",
    "log",
    "parse_state",
    "probe",
    "remedy",
    "state_name",
    "system",
    "trace",
    "vrrp",
    "warn",
]
