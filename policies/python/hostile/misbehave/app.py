"""A test policy that misbehaves as its `mode` setting says, for the host's
tests (host/policy/tests/guest_python.rs): what an exception, print(), a
bad return value, an endless loop or a memory bomb become. (`sleep`:
time.sleep, a WASI poll that the host ends at the deadline: for checking a
host's deadline on blocking WASI calls.)
"""

import sys
import time

import baton_policy
from baton_policy import failed, healthy


def check(settings, facts):
    mode = settings.require("mode")
    if mode == "raise":
        raise ValueError(f"bad value in {facts.instance.name}")
    if mode == "error":
        raise baton_policy.Error("the policy's own reason")
    if mode == "print":
        print("to stdout", facts.router_id)
        print("to stderr", file=sys.stderr)
        baton_policy.info("through the log interface")
        return healthy()
    if mode == "none":
        return None
    if mode == "weight":
        return failed("degraded").weight(-30)
    if mode == "recursion":
        def down(n):
            return down(n + 1) + 1
        return down(0)
    if mode == "loop":
        while True:
            pass
    if mode == "memory":
        hog = []
        while True:
            hog.append(bytearray(1 << 20))
    if mode == "sleep":
        time.sleep(float(settings.get_or("seconds", "5")))
        return healthy()
    return failed(f"unknown mode {mode}")


WitWorld = baton_policy.export(check)
