// Text the way the Rust SDK (baton_guest) writes it, so a policy fails with
// the same reason in both languages.

import { ESCAPED } from './escapes.js';

// Whether Rust's `{:?}` writes `cp` as \u{...}: not printable, or
// grapheme-extending. From Rust's own table (escapes.js): the engine in a
// component has no Unicode property escapes in its regexps.
function escapedAsUnicode(cp) {
  let lo = 0;
  let hi = ESCAPED.length / 2 - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (cp < ESCAPED[2 * mid]) hi = mid - 1;
    else if (cp > ESCAPED[2 * mid + 1]) lo = mid + 1;
    else return true;
  }
  return false;
}

/**
 * `s` quoted and escaped as Rust's `format!("{s:?}")` does (`Debug for str`):
 * `"a\"b"`, `"\n"`, `"\u{301}"`. The Rust policies put settings into reasons
 * this way, so the JavaScript ones do too.
 */
export function quote(s) {
  let out = '"';
  for (const ch of String(s)) {
    const cp = ch.codePointAt(0);
    switch (ch) {
      case '\0': out += '\\0'; continue;
      case '\t': out += '\\t'; continue;
      case '\r': out += '\\r'; continue;
      case '\n': out += '\\n'; continue;
      case '\\': out += '\\\\'; continue;
      case '"': out += '\\"'; continue;
    }
    // A lone surrogate (only a JavaScript string has one) as Rust would show it.
    if (escapedAsUnicode(cp) || (cp >= 0xd800 && cp <= 0xdfff)) {
      out += `\\u{${cp.toString(16)}}`;
    } else {
      out += ch;
    }
  }
  return out + '"';
}

// Rust's `char::is_whitespace` (White_Space): not JavaScript's `trim`, which
// also strips U+FEFF and keeps U+0085.
const RUST_WHITESPACE = new Set([
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003,
  0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f,
  0x3000,
]);

/** `s.trim()` as Rust trims (Unicode White_Space at both ends). */
export function rustTrim(s) {
  let start = 0;
  let end = s.length;
  while (start < end && RUST_WHITESPACE.has(s.charCodeAt(start))) start++;
  while (end > start && RUST_WHITESPACE.has(s.charCodeAt(end - 1))) end--;
  return s.slice(start, end);
}

/** Rust's `to_ascii_lowercase`: only A-Z change. */
export function asciiLowercase(s) {
  return s.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

/** How a value reads in a log line: strings as they are, the rest as JSON where it can. */
export function display(value) {
  if (typeof value === 'string') return value;
  if (value instanceof Error) return value.stack ? `${value}\n${value.stack}` : String(value);
  if (value === null || typeof value !== 'object') return String(value);
  try {
    return JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
  } catch {
    return String(value);
  }
}
