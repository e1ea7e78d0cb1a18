"""The SDK's pure parts on plain CPython, with stand-in bindings.

Run: python3 -m unittest discover -s guest-sdk/python/tests
(host/policy/tests/guest_python.rs runs this too, and checks the same
messages against the Rust SDK inside the real host.)
"""

import io
import os
import sys
import types
import unittest
from contextlib import redirect_stderr
from dataclasses import dataclass

# Stand-ins for what componentize-py generates (wit_world,
# componentize_py_types), installed before baton_policy is imported.


@dataclass
class Health_Healthy:
    pass


@dataclass
class Health_Failed:
    value: str


@dataclass
class WitVerdict:
    health: object
    weight: object


@dataclass
class ProbeError_Denied:
    value: str


@dataclass
class ProbeError_Timeout:
    pass


@dataclass
class ProbeError_Refused:
    pass


@dataclass
class ProbeError_Failed:
    value: str


@dataclass(frozen=True)
class Err(Exception):
    value: object


class WitWorldProtocol:
    pass


def _install_fake_bindings():
    cpt = types.ModuleType("componentize_py_types")
    cpt.Err = Err
    world = types.ModuleType("wit_world")
    world.__path__ = []
    world.Health_Healthy = Health_Healthy
    world.Health_Failed = Health_Failed
    world.Verdict = WitVerdict
    world.WitWorld = WitWorldProtocol
    imports = types.ModuleType("wit_world.imports")
    imports.__path__ = []
    world.imports = imports
    mods = {"componentize_py_types": cpt, "wit_world": world, "wit_world.imports": imports}
    for name in ("clock", "log", "probe", "remedy", "system", "types", "vrrp"):
        m = types.ModuleType(f"wit_world.imports.{name}")
        setattr(imports, name, m)
        mods[m.__name__] = m
    probe = mods["wit_world.imports.probe"]
    answers = {}

    def tcp_connect(host, port, timeout_ms):
        answer = answers[(host, port)]
        if isinstance(answer, Exception):
            raise answer
        return answer

    probe.tcp_connect = tcp_connect
    probe.answers = answers
    sys.modules.update(mods)
    return mods


FAKE = _install_fake_bindings()
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import baton_policy  # noqa: E402
from baton_policy import Error, ProbeError, Settings, failed, healthy  # noqa: E402


def message(f):
    try:
        f()
    except Error as e:
        return e.message
    raise AssertionError("no error")


class SettingsTest(unittest.TestCase):
    """The Rust SDK's own tests (guest-sdk/src/lib.rs), and more messages."""

    def settings(self):
        return Settings([("port", "8080"), ("flag", "Yes"), ("bad", "x1"), ("port", " 9090 ")])

    def test_last_value_wins_and_typed_parse(self):
        s = self.settings()
        self.assertEqual(s.get("port"), " 9090 ")
        self.assertEqual(s.get_u16("port"), 9090)
        self.assertIsNone(s.get_u16("nope"))
        self.assertEqual(s.get_u16("nope", 7), 7)
        self.assertEqual(s.parse_or("nope", "u32", 5), 5)
        self.assertIs(s.get_bool("flag"), True)
        self.assertEqual(s.get_or("nope", "d"), "d")
        self.assertEqual(len(s), 4)
        self.assertIn("flag", s)
        self.assertEqual(Settings({"a": "1"}).get("a"), "1")

    def test_errors_name_the_setting(self):
        s = self.settings()
        self.assertEqual(message(lambda: s.require("url")), "missing setting `url`")
        self.assertEqual(
            message(lambda: s.get_u16("bad")),
            'setting `bad` = "x1": expected u16: invalid digit found in string',
        )
        self.assertEqual(
            message(lambda: s.get_bool("bad")), 'setting `bad` = "x1": expected true or false'
        )
        self.assertEqual(message(lambda: s.require_parse("missing", "u32")), "missing setting `missing`")

    def test_rust_parse_messages(self):
        cases = [
            ("", "u16", "cannot parse integer from empty string"),
            ("   ", "u16", "cannot parse integer from empty string"),
            ("70000", "u16", "number too large to fit in target type"),
            ("-1", "u16", "invalid digit found in string"),
            ("-", "i32", "invalid digit found in string"),
            ("+", "u32", "invalid digit found in string"),
            ("-2147483649", "i32", "number too small to fit in target type"),
            ("1_000", "u32", "invalid digit found in string"),
            ("٣", "u32", "invalid digit found in string"),
            ("99999x", "u16", "number too large to fit in target type"),
            ("1x99999", "u16", "invalid digit found in string"),
            ("", "f64", "cannot parse float from empty string"),
            ("1,5", "f64", "invalid float literal"),
        ]
        for raw, kind, why in cases:
            s = Settings([("k", raw)])
            want = f"setting `k` = {baton_policy.debug_str(raw)}: expected {kind}: {why}"
            self.assertEqual(message(lambda: s.parse("k", kind)), want, (raw, kind))

    def test_rust_parse_values(self):
        s = Settings([("a", "+80"), ("b", "\u3000 42\t"), ("c", "-0"), ("d", "1e3"), ("e", "-inf")])
        self.assertEqual(s.get_u16("a"), 80)
        self.assertEqual(s.get_u32("b"), 42)
        self.assertEqual(s.get_i32("c"), 0)
        self.assertEqual(s.get_f64("d"), 1000.0)
        self.assertEqual(s.get_f64("e"), float("-inf"))
        self.assertEqual(s.get_u64("a"), 80)
        # Rust's trim keeps U+001F, Python's strip() would not.
        self.assertTrue(message(lambda: Settings([("k", "\x1f1")]).get_u32("k")).endswith("invalid digit found in string"))

    def test_bools(self):
        for raw, want in [("TRUE", True), (" on ", True), ("1", True), ("No", False), ("off", False), ("0", False)]:
            self.assertIs(Settings([("b", raw)]).get_bool("b"), want, raw)
        # Only ASCII letters fold (U+212A KELVIN SIGN is no k).
        self.assertTrue(message(lambda: Settings([("b", "\u212a")]).get_bool("b")))

    def test_debug_str_is_rusts(self):
        self.assertEqual(baton_policy.debug_str('a"b\\c'), '"a\\"b\\\\c"')
        self.assertEqual(baton_policy.debug_str("it's\n\t\r\0"), '"it\'s\\n\\t\\r\\0"')
        self.assertEqual(baton_policy.debug_str("\x01\x7f\xa0é\u0301\u200b"), '"\\u{1}\\u{7f}\\u{a0}é\\u{301}\\u{200b}"')
        self.assertEqual(baton_policy.debug_str("日本"), '"日本"')


class VerdictTest(unittest.TestCase):
    def test_helpers(self):
        self.assertTrue(healthy().is_healthy())
        v = failed("down").weight(-20)
        self.assertEqual(v.reason(), "down")
        self.assertEqual(v.weight_override, -20)
        self.assertEqual(repr(v), "failed('down').weight(-20)")
        self.assertRaises(ValueError, lambda: healthy().weight(2**31))
        self.assertRaises(TypeError, lambda: healthy().weight(True))

    def test_probe_errors_read_as_in_rust(self):
        self.assertEqual(
            str(ProbeError(ProbeError_Denied("10.0.0.1:80"))), "denied by allowlist: 10.0.0.1:80"
        )
        self.assertEqual(str(ProbeError(ProbeError_Timeout())), "timed out")
        self.assertEqual(str(ProbeError(ProbeError_Refused())), "refused")
        self.assertEqual(str(ProbeError(ProbeError_Failed("reset"))), "reset")
        self.assertEqual(ProbeError(ProbeError_Refused()).kind, "refused")


class ExportTest(unittest.TestCase):
    def run_check(self, check, settings=()):
        world = baton_policy.export(check)()
        with redirect_stderr(io.StringIO()) as err:
            return world.check(list(settings), None), err.getvalue()

    def test_verdicts_cross_as_the_worlds_types(self):
        v, _ = self.run_check(lambda s, f: healthy())
        self.assertEqual(v, WitVerdict(Health_Healthy(), None))
        v, _ = self.run_check(lambda s, f: failed("x").weight(-5))
        self.assertEqual(v, WitVerdict(Health_Failed("x"), -5))
        self.assertTrue(issubclass(baton_policy.export(lambda s, f: None), WitWorldProtocol))

    def test_exceptions_become_failed(self):
        def bad_setting(s, f):
            s.require("url")

        v, _ = self.run_check(bad_setting)
        self.assertEqual(v.health, Health_Failed("missing setting `url`"))

        def raises(s, f):
            raise ValueError("no good")

        v, err = self.run_check(raises)
        self.assertEqual(v.health, Health_Failed("ValueError: no good"))
        self.assertIn("Traceback", err)

        def key_error(s, f):
            return {}["k"]

        v, _ = self.run_check(key_error)
        self.assertEqual(v.health, Health_Failed("KeyError: 'k'"))

        def mine(s, f):
            raise baton_policy.Error("my reason")

        v, err = self.run_check(mine)
        self.assertEqual(v.health, Health_Failed("my reason"))
        self.assertEqual(err, "")

        def exits(s, f):
            sys.exit(3)

        v, _ = self.run_check(exits)
        self.assertEqual(v.health, Health_Failed("SystemExit: 3"))

        v, _ = self.run_check(lambda s, f: True)
        self.assertTrue(v.health.value.startswith("check returned bool, not a Verdict"))

    def test_probe_errors_uncaught_and_raw(self):
        answers = FAKE["wit_world.imports.probe"].answers
        answers[("127.0.0.1", 1)] = Err(ProbeError_Refused())
        answers[("127.0.0.1", 2)] = 1500

        def connect(s, f):
            baton_policy.probe.tcp_connect("127.0.0.1", s.get_u16("port"), 100)
            return healthy()

        v, _ = self.run_check(connect, [("port", "1")])
        self.assertEqual(v.health, Health_Failed("refused"))
        v, _ = self.run_check(connect, [("port", "2")])
        self.assertEqual(v.health, Health_Healthy())

        def raw(s, f):
            raise Err(ProbeError_Timeout())

        v, _ = self.run_check(raw)
        self.assertEqual(v.health, Health_Failed("timed out"))


if __name__ == "__main__":
    unittest.main()
