// What the JavaScript SDK does around a policy, for host/policy/tests/guest_js.rs:
// setting `mode` picks the behaviour.

import { failed, healthy, log, probe, quote } from '@baton/policy';

export function check(settings, facts) {
  switch (settings.require('mode')) {
    case 'throw':
      throw new Error(`boom: ${settings.getOr('why', 'no why')}`);
    case 'type-error':
      return settings.nosuchmethod();
    case 'throw-string':
      throw 'a bare string';
    case 'uncaught-probe':
      // No attempt(): the ProbeError goes up and fails the check with the host's words.
      probe.tcpConnect('127.0.0.1', settings.requireU16('port'), 200);
      return healthy();
    case 'console':
      console.log('hello from console.log');
      console.error('and from console.error');
      log.info('and from log.info', 42, { run: facts.run });
      return healthy();
    case 'facts':
      return failed(
        `run=${facts.run} ${typeof facts.run} last=${facts.lastHealthy} state=${facts.instance.state} ` +
          `master=${facts.instance.master} vips=${facts.instance.vips.join(',')}`,
      );
    case 'weight':
      return failed('weighted').weight(settings.getI32('weight'));
    case 'quote':
      return failed(quote(settings.require('text')));
    case 'parse':
      // The typed parse's error (or the value) as the reason.
      return failed(`${settings.parse('value', settings.require('type'))}`);
    case 'bad-return':
      return 5;
    case 'async':
      return (async () => {
        await null;
        return failed('from a promise');
      })();
    case 'loop':
      for (;;) {}
    case 'memory': {
      const hoard = [];
      for (;;) hoard.push(new Uint8Array(8 << 20).fill(hoard.length));
    }
    default:
      return healthy();
  }
}
