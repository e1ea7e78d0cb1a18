// @baton/policy: write Baton health checks (world `health` of
// baton:policy@0.1.1) in JavaScript. See ../README.md.
//
// The policy module exports `check(settings, facts)`; scripts/guest-build-js
// bundles it with this SDK and exports `exportCheck(check)` as the
// component's `check`, so `settings` is a `Settings`, a thrown Error becomes
// `failed(message)` and the answer is turned into the WIT verdict.

// Unversioned here: scripts/guest-build-js writes in the version of the
// wit/ it builds against (the import names componentize-js defines carry it).
import * as rawLog from 'baton:policy/log';
import * as rawClock from 'baton:policy/clock';
import * as rawProbe from 'baton:policy/probe';
import * as rawSystem from 'baton:policy/system';
import * as rawVrrp from 'baton:policy/vrrp';
import * as rawRemedy from 'baton:policy/remedy';

import { PolicyError, probeErrorOf } from './errors.js';
import { display } from './format.js';
import { Settings } from './settings.js';
import { failedFrom, verdictToWit } from './verdict.js';

export * from './pure.js';

// A WIT import that returns `result<T, probe-error>` throws on err; rethrow
// that as the ProbeError the Rust SDK would return.
function capability(fn) {
  return (...args) => {
    try {
      return fn(...args);
    } catch (e) {
      throw probeErrorOf(e) ?? e;
    }
  };
}

function message(args) {
  return args.map(display).join(' ');
}

/**
 * Logging through the daemon's log, tagged with the policy and instance.
 * Arguments are joined with spaces (strings as they are, the rest as JSON).
 * Messages over 4 KiB are cut by the host. `console.log` works too: stdout
 * and stderr reach the evaluation's log (at info and warn).
 */
export const log = Object.freeze({
  log(level, ...args) {
    rawLog.log(level, message(args));
  },
  trace: (...args) => rawLog.log('trace', message(args)),
  debug: (...args) => rawLog.log('debug', message(args)),
  info: (...args) => rawLog.log('info', message(args)),
  warn: (...args) => rawLog.log('warn', message(args)),
  error: (...args) => rawLog.log('error', message(args)),
});

/** A point on the host's monotonic clock. */
export class Instant {
  #ns;

  constructor(ns) {
    this.#ns = ns;
  }

  static now() {
    return new Instant(rawClock.monotonicNs());
  }

  /** Nanoseconds since this instant (a BigInt, never negative). */
  elapsedNs() {
    const d = rawClock.monotonicNs() - this.#ns;
    return d > 0n ? d : 0n;
  }

  /** Whole milliseconds since this instant (a Number). */
  elapsedMs() {
    return Number(this.elapsedNs() / 1_000_000n);
  }
}

/** Time: the host's monotonic clock and a host-side wait. */
export const clock = Object.freeze({
  /** Monotonic nanoseconds, a BigInt (only differences mean anything). */
  monotonicNs: () => rawClock.monotonicNs(),
  /**
   * Waits in the host for up to `ms` milliseconds. The host cuts the wait
   * short so the evaluation keeps budget to finish: it may return at once,
   * so bound any loop around it by a count, not only by the clock.
   */
  sleepMs: (ms) => rawClock.sleepMs(ms),
  Instant,
});

/** Network probes; every target must match the policy's `allow` patterns. */
export const probe = Object.freeze({
  /**
   * Opens and closes a TCP connection to host:port; returns how long the
   * connect took, in µs (a BigInt). Throws a ProbeError.
   */
  tcpConnect: capability((host, port, timeoutMs) => rawProbe.tcpConnect(host, port, timeoutMs)),
  /**
   * HTTP/1.1 GET of an http:// URL: `{ status, body }`, the body (a
   * Uint8Array) at most `maxBody` bytes (0: status only). Throws a ProbeError.
   */
  httpGet: capability((url, timeoutMs, maxBody = 0) => rawProbe.httpGet(url, timeoutMs, maxBody)),
});

/** Read-only facts about this machine. */
export const system = Object.freeze({
  /** Live processes named `name` (comm). Scans every process: prefer processRunning. */
  processCount: (name) => rawSystem.processCount(name),
  /** Whether at least `atLeast` live processes named `name` run (cheap while they do). */
  processRunning: (name, atLeast = 1) => rawSystem.processRunning(name, atLeast),
  /** Whether `address` is configured on an interface of this node. */
  addressHeld: (address) => rawSystem.addressHeld(address),
  /** Whether interface `name` is up with carrier. Throws a ProbeError. */
  interfaceUp: capability((name) => rawSystem.interfaceUp(name)),
  /**
   * At most `maxBytes` of a file the config allows (`allow-files`), a
   * Uint8Array; `undefined` if it does not exist. Throws a ProbeError.
   */
  readFile: capability((path, maxBytes) => rawSystem.readFile(path, maxBytes)),
});

/** Remediation commands named in the config (`[[remedy]]`). */
export const remedy = Object.freeze({
  /** Runs remedy `name`, waits for it (host timeout), returns its exit code. Throws a ProbeError. */
  run: capability((name) => rawRemedy.run(name)),
});

/** This node's VRRP view. */
export const vrrp = Object.freeze({
  /** Every VRRP instance on this node. */
  instances: () => rawVrrp.instances(),
});

const WRAPPED = Symbol('baton.check');

/**
 * The component's `check` export for a policy's `check(settings, facts)`:
 * `settings` arrives as a `Settings`; the answer (a verdict, or a promise of
 * one) goes to the host as the WIT verdict; anything thrown becomes
 * `failed(message)`. An exception that is not a PolicyError (a bug, most
 * likely) is also logged at warn with its stack.
 */
export function exportCheck(check) {
  if (typeof check !== 'function') {
    throw new TypeError('a policy module must export function check(settings, facts)');
  }
  if (check[WRAPPED]) return check;
  const onThrow = (e) => {
    if (!(e instanceof PolicyError)) {
      try {
        log.warn(`check threw ${display(e)}`);
      } catch {
        // Logging is best effort; the verdict below still says why.
      }
    }
    return verdictToWit(failedFrom(e));
  };
  const wrapped = (rawSettings, facts) => {
    let answer;
    try {
      answer = check(new Settings(rawSettings), facts);
    } catch (e) {
      return onThrow(e);
    }
    if (answer !== null && typeof answer === 'object' && typeof answer.then === 'function') {
      return Promise.resolve(answer).then(verdictToWit, onThrow);
    }
    return verdictToWit(answer);
  };
  wrapped[WRAPPED] = true;
  return wrapped;
}
