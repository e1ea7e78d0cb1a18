"""Healthy when a TCP connection to `host`:`port` opens within `timeout-ms`.
The Python port of policies/tcp-port: same settings, defaults and reasons.

Settings: `host` (default 127.0.0.1), `port` (required), `timeout-ms`
(default 200). The config's `allow` must permit the target.
"""

import baton_policy
from baton_policy import ProbeError, failed, healthy, probe


def check(settings, facts):
    host = settings.get_or("host", "127.0.0.1")
    port = settings.require_parse("port", "u16")
    timeout_ms = settings.get_u32("timeout-ms", 200)
    try:
        probe.tcp_connect(host, port, timeout_ms)
    except ProbeError as e:
        return failed(f"tcp {host}:{port}: {e}")
    return healthy()


WitWorld = baton_policy.export(check)
