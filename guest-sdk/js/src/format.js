// Text the way the Rust SDK (baton_guest) writes it, so a policy fails with
// the same reason in both languages.

// Unicode property classes, if this engine's regexps have them; otherwise a
// table good for ASCII and Latin-1 (the rest is then printed as is).
function unicodeClass(source) {
  try {
    return new RegExp(source, 'u');
  } catch {
    return null;
  }
}

// Rust's `char::is_printable` is false for exactly these categories (but a
// plain space is printable).
const NOT_PRINTABLE = unicodeClass('^[\\p{Cc}\\p{Cf}\\p{Cs}\\p{Co}\\p{Cn}\\p{Zl}\\p{Zp}\\p{Zs}]$');
const GRAPHEME_EXTEND = unicodeClass('^\\p{Grapheme_Extend}$');

function notPrintable(ch, cp) {
  if (cp === 0x20) return false;
  if (NOT_PRINTABLE) return NOT_PRINTABLE.test(ch);
  return cp < 0x20 || (cp >= 0x7f && cp <= 0xa0) || cp === 0xad || (cp >= 0xd800 && cp <= 0xdfff);
}

function graphemeExtend(ch, cp) {
  if (GRAPHEME_EXTEND) return GRAPHEME_EXTEND.test(ch);
  return cp >= 0x300 && cp <= 0x36f;
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
    if (graphemeExtend(ch, cp) || notPrintable(ch, cp)) {
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
