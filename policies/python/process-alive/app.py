"""Healthy while at least `min` processes named `name` run (the seed's
check_web.sh). With `remedy`, a dead process is restarted once per failure
episode: the remedy runs when the previous evaluation was healthy (or on
the first), then the process is counted again, waiting up to `settle-ms`
for it in steps of `settle-step-ms`; if it is still missing the check fails
and the remedy is not run again until it has been healthy. The Python port
of policies/process-alive: same settings, defaults, reasons and log lines.

Settings: `name` (required), `min` (default 1), `remedy` (optional),
`settle-ms` (default 1000), `settle-step-ms` (default 50).
"""

import baton_policy
from baton_policy import ProbeError, clock, debug_str, failed, healthy, remedy, system


def check(settings, facts):
    name = settings.require("name")
    minimum = settings.parse_or("min", "u32", 1)
    if system.process_running(name, minimum):
        return healthy()
    remedy_name = settings.get("remedy")
    if remedy_name is None:
        return failed(f"{name} not running")
    if facts.last_healthy is False:
        return failed(f"{name} not running (remedy {debug_str(remedy_name)} already tried)")

    baton_policy.warn(f"{name} not running: running remedy {debug_str(remedy_name)}")
    try:
        code = remedy.run(remedy_name)
    except ProbeError as e:
        return failed(f"{name} not running; remedy {debug_str(remedy_name)}: {e}")
    if code != 0:
        baton_policy.warn(f"remedy {debug_str(remedy_name)} exited with {code}")

    settle_ns = settings.parse_or("settle-ms", "u64", 1000) * 1_000_000
    step_ms = max(settings.parse_or("settle-step-ms", "u32", 50), 1)
    # Bounded by a count as well as the clock: the host may cut sleeps short.
    max_steps = settle_ns // 1_000_000 // step_ms + 1
    started = clock.monotonic_ns()
    steps = 0
    while True:
        if system.process_running(name, minimum):
            baton_policy.info(f"{name} running again after remedy {debug_str(remedy_name)}")
            return healthy()
        elapsed = max(0, clock.monotonic_ns() - started)
        if elapsed >= settle_ns or steps >= max_steps:
            return failed(f"{name} not running after {remedy_name}")
        left_ms = min((settle_ns - elapsed) // 1_000_000, step_ms)
        clock.sleep_ms(left_ms)
        steps += 1


WitWorld = baton_policy.export(check)
