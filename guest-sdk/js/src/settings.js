// The policy's settings, with the Rust SDK's parses and error messages.

import { PolicyError } from './errors.js';
import { asciiLowercase, quote, rustTrim } from './format.js';

// Rust's `ParseIntError` Display, by kind.
const EMPTY = 'cannot parse integer from empty string';
const INVALID_DIGIT = 'invalid digit found in string';
const POS_OVERFLOW = 'number too large to fit in target type';
const NEG_OVERFLOW = 'number too small to fit in target type';

const INTEGERS = {
  u8: [false, 8],
  u16: [false, 16],
  u32: [false, 32],
  u64: [false, 64],
  i8: [true, 8],
  i16: [true, 16],
  i32: [true, 32],
  i64: [true, 64],
};

class ParseFailure {
  constructor(why) {
    this.why = why;
  }
}

/**
 * Rust's `str::parse` of an integer type (`from_str_radix(s, 10)`): an
 * optional `+` (or `-` for signed types), ASCII digits, nothing else; the
 * first problem from the left decides the error, as in Rust. Returns a
 * BigInt or a `ParseFailure`.
 */
function parseInteger(s, signed, bits) {
  const max = signed ? (1n << BigInt(bits - 1)) - 1n : (1n << BigInt(bits)) - 1n;
  const min = signed ? -(1n << BigInt(bits - 1)) : 0n;
  if (s.length === 0) return new ParseFailure(EMPTY);
  if (s === '+' || s === '-') return new ParseFailure(INVALID_DIGIT);
  let positive = true;
  let digits = s;
  if (s[0] === '+') {
    digits = s.slice(1);
  } else if (s[0] === '-' && signed) {
    positive = false;
    digits = s.slice(1);
  }
  let n = 0n;
  for (const c of digits) {
    if (c < '0' || c > '9') return new ParseFailure(INVALID_DIGIT);
    const d = BigInt(c.charCodeAt(0) - 48);
    if (positive) {
      n *= 10n;
      if (n > max) return new ParseFailure(POS_OVERFLOW);
      n += d;
      if (n > max) return new ParseFailure(POS_OVERFLOW);
    } else {
      n *= 10n;
      if (n < min) return new ParseFailure(NEG_OVERFLOW);
      n -= d;
      if (n < min) return new ParseFailure(NEG_OVERFLOW);
    }
  }
  return n;
}

// Rust's float grammar (`f64::from_str`): no hex, no underscores, inf/nan in any case.
const FLOAT = /^[+-]?(?:inf|infinity|nan|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)$/i;

function parseFloat64(s) {
  if (s.length === 0) return new ParseFailure('cannot parse float from empty string');
  if (!FLOAT.test(s)) return new ParseFailure('invalid float literal');
  const lower = s.toLowerCase();
  const sign = lower[0] === '-' ? -1 : 1;
  const body = lower.replace(/^[+-]/, '');
  if (body === 'inf' || body === 'infinity') return sign * Infinity;
  if (body === 'nan') return NaN;
  return Number(s);
}

/**
 * Parses `trimmed` as `type`: an integer type name ('u8' … 'u64', 'i8' …
 * 'i64'; 64-bit ones give a BigInt, the rest a Number), 'f64', 'bool'
 * (Rust's `bool::from_str`: exactly `true` or `false`) or 'string'.
 */
function parseAs(type, trimmed) {
  if (type in INTEGERS) {
    const [signed, bits] = INTEGERS[type];
    const n = parseInteger(trimmed, signed, bits);
    if (n instanceof ParseFailure || bits === 64) return n;
    return Number(n);
  }
  switch (type) {
    case 'f64':
      return parseFloat64(trimmed);
    case 'bool':
      if (trimmed === 'true') return true;
      if (trimmed === 'false') return false;
      return new ParseFailure('provided string was not `true` or `false`');
    case 'string':
      return trimmed;
    default:
      throw new TypeError(`unknown setting type ${String(type)}`);
  }
}

/** Rust's `parse_value`: the value trimmed and parsed, or the error naming key and raw value. */
function parseValue(key, raw, type) {
  const v = parseAs(type, rustTrim(raw));
  if (v instanceof ParseFailure) {
    throw new PolicyError(`setting \`${key}\` = ${quote(raw)}: expected ${type}: ${v.why}`);
  }
  return v;
}

/**
 * The policy's settings: its `config` table merged with the instance's, as
 * strings. When a key repeats, the last value wins (the instance's).
 *
 * Getters return `undefined` when the key is unset (so `?? default` gives a
 * default) and throw a `PolicyError` (so `check` fails with its message)
 * when the value does not parse.
 */
export class Settings {
  /** @param {Iterable<[string, string]>} pairs */
  constructor(pairs = []) {
    this.pairs = Array.from(pairs, ([k, v]) => [String(k), String(v)]);
  }

  /** The value of `key`, if set. */
  get(key) {
    for (let i = this.pairs.length - 1; i >= 0; i--) {
      if (this.pairs[i][0] === key) return this.pairs[i][1];
    }
    return undefined;
  }

  /** The value of `key`, or `fallback`. */
  getOr(key, fallback) {
    const v = this.get(key);
    return v === undefined ? fallback : v;
  }

  /** The value of `key`; unset throws "missing setting `key`". */
  require(key) {
    const v = this.get(key);
    if (v === undefined) throw new PolicyError(`missing setting \`${key}\``);
    return v;
  }

  /** Whether `key` is set. */
  contains(key) {
    return this.get(key) !== undefined;
  }

  /** `key` parsed as `type` (see the README), `undefined` if unset. */
  parse(key, type) {
    const raw = this.get(key);
    return raw === undefined ? undefined : parseValue(key, raw, type);
  }

  /** `key` parsed as `type`, or `fallback` when unset. */
  parseOr(key, type, fallback) {
    const v = this.parse(key, type);
    return v === undefined ? fallback : v;
  }

  /** `key` parsed as `type`; unset is an error (Rust's `require_parse`). */
  requireParse(key, type) {
    return parseValue(key, this.require(key), type);
  }

  /** `key` as a u16 (ports, status codes): a Number. */
  getU16(key) {
    return this.parse(key, 'u16');
  }

  /** `key` as a u32 (timeouts in ms, sizes): a Number. */
  getU32(key) {
    return this.parse(key, 'u32');
  }

  /** `key` as a u64: a BigInt (a Number would lose precision above 2^53). */
  getU64(key) {
    return this.parse(key, 'u64');
  }

  /** `key` as an i32 (weights): a Number. */
  getI32(key) {
    return this.parse(key, 'i32');
  }

  /** `key` as a boolean: true/false, yes/no, on/off, 1/0, in any case. */
  getBool(key) {
    const raw = this.get(key);
    if (raw === undefined) return undefined;
    switch (asciiLowercase(rustTrim(raw))) {
      case 'true':
      case 'yes':
      case 'on':
      case '1':
        return true;
      case 'false':
      case 'no':
      case 'off':
      case '0':
        return false;
      default:
        throw new PolicyError(`setting \`${key}\` = ${quote(raw)}: expected true or false`);
    }
  }

  /** `key` as a u16; unset is an error. */
  requireU16(key) {
    return this.requireParse(key, 'u16');
  }

  /** `key` as a u32; unset is an error. */
  requireU32(key) {
    return this.requireParse(key, 'u32');
  }

  /** `key` as a u64 (BigInt); unset is an error. */
  requireU64(key) {
    return this.requireParse(key, 'u64');
  }

  /** All pairs, in order (later ones override earlier ones in `get`). */
  [Symbol.iterator]() {
    return this.pairs[Symbol.iterator]();
  }

  /** Number of pairs. */
  get length() {
    return this.pairs.length;
  }

  /** Whether there are no settings. */
  isEmpty() {
    return this.pairs.length === 0;
  }
}
