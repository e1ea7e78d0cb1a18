// Verdicts: what `check` answers (WIT `verdict`), as in the Rust SDK.

import { PolicyError } from './errors.js';

const I32_MIN = -(2 ** 31);
const I32_MAX = 2 ** 31 - 1;

/** What one evaluation decided. Immutable: `weight(n)` returns a new verdict. */
export class Verdict {
  #reason;
  #weight;

  /** Use `healthy()` and `failed(reason)`. */
  constructor(reason, weight) {
    this.#reason = reason;
    this.#weight = weight;
  }

  /**
   * `weight(n)`: this verdict with the config's weight overridden for this
   * evaluation (keepalived's semantics: positive adds while healthy,
   * negative subtracts while failed, 0 means FAULT while failed). An i32;
   * the host clamps it to ±254.
   * `weight()`: the override, or `undefined`.
   */
  weight(n) {
    if (arguments.length === 0) return this.#weight;
    if (!Number.isInteger(n) || n < I32_MIN || n > I32_MAX) {
      throw new PolicyError(`weight ${String(n)} is not a 32-bit integer`);
    }
    return new Verdict(this.#reason, n);
  }

  /** Whether this verdict is healthy. */
  isHealthy() {
    return this.#reason === undefined;
  }

  /** The failure reason, if failed. */
  reason() {
    return this.#reason;
  }

  /** The WIT record `verdict` the host receives. */
  toWit() {
    const health =
      this.#reason === undefined ? { tag: 'healthy' } : { tag: 'failed', val: this.#reason };
    return { health, weight: this.#weight };
  }

  toString() {
    const w = this.#weight === undefined ? '' : ` (weight ${this.#weight})`;
    return (this.#reason === undefined ? 'healthy' : `failed: ${this.#reason}`) + w;
  }
}

/** A healthy verdict, with the config's weight. */
export function healthy() {
  return new Verdict(undefined, undefined);
}

/** A failed verdict with its reason (logged by the daemon, shown in status). */
export function failed(reason) {
  return new Verdict(String(reason), undefined);
}

/**
 * The verdict for what `check` threw: its message (a thrown Error), or the
 * thrown value as text. Rust's `Err(e)` → `failed(e)`.
 */
export function failedFrom(thrown) {
  if (thrown instanceof Error) return failed(thrown.message);
  return failed(String(thrown));
}

/** The WIT `verdict` for what `check` returned; anything but a verdict fails the check. */
export function verdictToWit(value) {
  if (value instanceof Verdict) return value.toWit();
  const what = value === null ? 'null' : typeof value === 'object' ? 'an object' : typeof value;
  return failed(`check returned ${what}, not a verdict (healthy() or failed(reason))`).toWit();
}
