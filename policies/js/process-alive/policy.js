// Healthy while at least `min` processes named `name` run (the seed's
// check_web.sh). With `remedy`, a dead process is restarted once per
// failure episode: the remedy runs when the previous evaluation was healthy
// (or on the first), then the process is counted again, waiting up to
// `settle-ms` for it in steps of `settle-step-ms`; if it is still missing
// the check fails and the remedy is not run again until it has been healthy.
// The JavaScript port of policies/process-alive: same settings, same reasons.
//
// Settings: `name` (required), `min` (default 1), `remedy` (optional),
// `settle-ms` (default 1000), `settle-step-ms` (default 50).

import { Instant, attempt, clock, failed, healthy, log, quote, remedy, system } from '@baton/policy';

export function check(settings, facts) {
  const name = settings.require('name');
  const min = settings.getU32('min') ?? 1;
  if (system.processRunning(name, min)) return healthy();
  const remedyName = settings.get('remedy');
  if (remedyName === undefined) return failed(`${name} not running`);
  if (facts.lastHealthy === false) {
    return failed(`${name} not running (remedy ${quote(remedyName)} already tried)`);
  }

  log.warn(`${name} not running: running remedy ${quote(remedyName)}`);
  const r = attempt(() => remedy.run(remedyName));
  if (!r.ok) return failed(`${name} not running; remedy ${quote(remedyName)}: ${r.error.message}`);
  if (r.value !== 0) log.warn(`remedy ${quote(remedyName)} exited with ${r.value}`);

  // u64 milliseconds: BigInt, as in Rust (parsed after the remedy ran, as there).
  const settleNs = (settings.getU64('settle-ms') ?? 1000n) * 1_000_000n;
  const stepMs = Math.max(settings.getU32('settle-step-ms') ?? 50, 1);
  // Bounded by a count as well as the clock: the host may cut sleeps short.
  const maxSteps = settleNs / 1_000_000n / BigInt(stepMs) + 1n;
  const started = Instant.now();
  let steps = 0n;
  for (;;) {
    if (system.processRunning(name, min)) {
      log.info(`${name} running again after remedy ${quote(remedyName)}`);
      return healthy();
    }
    const elapsedNs = started.elapsedNs();
    if (elapsedNs >= settleNs || steps >= maxSteps) {
      return failed(`${name} not running after ${remedyName}`);
    }
    const leftMs = (settleNs - elapsedNs) / 1_000_000n;
    clock.sleepMs(Number(leftMs < BigInt(stepMs) ? leftMs : BigInt(stepMs)));
    steps += 1n;
  }
}
