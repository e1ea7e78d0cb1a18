// Healthy when a TCP connection to `host`:`port` opens within `timeout-ms`.
// The JavaScript port of policies/tcp-port: same settings, same reasons.
//
// Settings: `host` (default 127.0.0.1), `port` (required), `timeout-ms`
// (default 200). The config's `allow` must permit the target.

import { attempt, failed, healthy, probe } from '@baton/policy';

export function check(settings) {
  const host = settings.getOr('host', '127.0.0.1');
  const port = settings.requireU16('port');
  const timeoutMs = settings.getU32('timeout-ms') ?? 200;
  const r = attempt(() => probe.tcpConnect(host, port, timeoutMs));
  return r.ok ? healthy() : failed(`tcp ${host}:${port}: ${r.error.message}`);
}
