"""Healthy when an HTTP GET of `url` answers status `expect` (and, with
`body-contains`, a body that contains that text within its first
`max-body` bytes). The Python port of policies/http-status: same settings,
defaults and reasons.

Settings: `url` (required, http://), `expect` (default 200), `timeout-ms`
(default 200), `body-contains` (optional), `max-body` (default 4096, used
only with `body-contains`).
"""

import baton_policy
from baton_policy import ProbeError, debug_str, failed, healthy, probe


def check(settings, facts):
    url = settings.require("url")
    expect = settings.get_u16("expect", 200)
    timeout_ms = settings.get_u32("timeout-ms", 200)
    needle = settings.get("body-contains")
    max_body = settings.get_u32("max-body", 4096) if needle is not None else 0

    try:
        response = probe.http_get(url, timeout_ms, max_body)
    except ProbeError as e:
        return failed(f"GET {url}: {e}")
    if response.status != expect:
        return failed(f"GET {url}: status {response.status} (expected {expect})")
    if needle is not None and needle.encode() not in response.body:
        return failed(f"GET {url}: body does not contain {debug_str(needle)}")
    return healthy()


WitWorld = baton_policy.export(check)
