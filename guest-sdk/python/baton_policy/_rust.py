"""Rust's text conventions, so a Python policy's reasons are byte for byte
those of the Rust SDK (guest-sdk/src/lib.rs) and the Rust reference policies:
`str::trim`, `{:?}` of a `str`, and `str::parse` of integers and `f64` with
their error messages.
"""

import re
import unicodedata

# Unicode White_Space, what Rust's `str::trim` strips. Python's str.strip()
# also strips U+001C..U+001F, which Rust keeps.
_WHITE_SPACE = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


def trim(s: str) -> str:
    """Rust's `str::trim`."""
    return s.strip(_WHITE_SPACE)


# Other_Grapheme_Extend (Grapheme_Extend = Mn + Me + these): Rust's `{:?}`
# escapes grapheme extenders as \u{..}.
_OTHER_GRAPHEME_EXTEND = (
    (0x09BE, 0x09BE), (0x09D7, 0x09D7), (0x0B3E, 0x0B3E), (0x0B57, 0x0B57),
    (0x0BBE, 0x0BBE), (0x0BD7, 0x0BD7), (0x0CC2, 0x0CC2), (0x0CD5, 0x0CD6),
    (0x0D3E, 0x0D3E), (0x0D57, 0x0D57), (0x0DCF, 0x0DCF), (0x0DDF, 0x0DDF),
    (0x1B35, 0x1B35), (0x200C, 0x200C), (0x302E, 0x302F), (0xFF9E, 0xFF9F),
    (0x1133E, 0x1133E), (0x11357, 0x11357), (0x114B0, 0x114B0),
    (0x114BD, 0x114BD), (0x115AF, 0x115AF), (0x11930, 0x11930),
    (0x1D165, 0x1D165), (0x1D16E, 0x1D172), (0xE0020, 0xE007F),
)


def _grapheme_extend(c: str) -> bool:
    if unicodedata.category(c) in ("Mn", "Me"):
        return True
    cp = ord(c)
    return any(lo <= cp <= hi for lo, hi in _OTHER_GRAPHEME_EXTEND)


_ESCAPES = {"\0": "\\0", "\t": "\\t", "\r": "\\r", "\n": "\\n", "\\": "\\\\", '"': '\\"'}


def debug_str(s: str) -> str:
    """`format!("{s:?}")` of a Rust `str`: quoted, with Rust's escapes.

    Printable is what Rust calls printable: not a control, format,
    surrogate, private-use or unassigned character, nor a separator other
    than the space (the same categories as Python's str.isprintable).
    Characters of a Unicode version one side knows and the other does not
    may differ.
    """
    out = ['"']
    for c in s:
        esc = _ESCAPES.get(c)
        if esc is not None:
            out.append(esc)
        elif " " <= c <= "~":
            out.append(c)
        elif _grapheme_extend(c) or not c.isprintable():
            out.append("\\u{%x}" % ord(c))
        else:
            out.append(c)
    out.append('"')
    return "".join(out)


# name -> (min, max) of the integer types a setting may be parsed as.
INT_RANGES = {
    "u8": (0, 2**8 - 1),
    "u16": (0, 2**16 - 1),
    "u32": (0, 2**32 - 1),
    "u64": (0, 2**64 - 1),
    "i8": (-(2**7), 2**7 - 1),
    "i16": (-(2**15), 2**15 - 1),
    "i32": (-(2**31), 2**31 - 1),
    "i64": (-(2**63), 2**63 - 1),
}

KINDS = tuple(INT_RANGES) + ("f64",)


class ParseError(ValueError):
    """What Rust's `str::parse` says (`ParseIntError`/`ParseFloatError`)."""


def parse_int(s: str, kind: str) -> int:
    """Rust's `s.parse::<kind>()` for an integer type: an optional `+` (or
    `-` for a signed type) then ASCII digits; digits are read left to right
    and the first problem found is the error, as in `from_str_radix`."""
    lo, hi = INT_RANGES[kind]
    if s == "":
        raise ParseError("cannot parse integer from empty string")
    if s in ("+", "-"):
        raise ParseError("invalid digit found in string")
    negative = False
    digits = s
    if s[0] == "+":
        digits = s[1:]
    elif s[0] == "-" and lo < 0:
        negative = True
        digits = s[1:]
    value = 0
    for c in digits:
        if not "0" <= c <= "9":
            raise ParseError("invalid digit found in string")
        d = ord(c) - 48
        if negative:
            value = value * 10 - d
            if value < lo:
                raise ParseError("number too small to fit in target type")
        else:
            value = value * 10 + d
            if value > hi:
                raise ParseError("number too large to fit in target type")
    return value


_FLOAT = re.compile(
    r"[+-]?(?:(?i:inf|infinity|nan)|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)"
)


def parse_f64(s: str) -> float:
    """Rust's `s.parse::<f64>()` (Python's float() accepts more: `_`, spaces)."""
    if s == "":
        raise ParseError("cannot parse float from empty string")
    if not _FLOAT.fullmatch(s):
        raise ParseError("invalid float literal")
    return float(s)


def parse(s: str, kind: str):
    if kind == "f64":
        return parse_f64(s)
    if kind in INT_RANGES:
        return parse_int(s, kind)
    raise ValueError(f"baton_policy: cannot parse as {kind!r} (one of {', '.join(KINDS)})")
