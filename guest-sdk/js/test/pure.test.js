// The SDK's host-free parts under Node (`node --test guest-sdk/js/test/`).
// The expected texts are what the Rust SDK (guest-sdk/src/lib.rs) produces;
// host/policy/tests/guest_js.rs compares the two languages in the real host.

import { strict as assert } from 'node:assert';
import { test } from 'node:test';

import {
  PolicyError,
  ProbeError,
  Settings,
  attempt,
  failed,
  failedFrom,
  healthy,
  parseState,
  probeErrorOf,
  quote,
  rustTrim,
  verdictToWit,
} from '../src/pure.js';

const s = new Settings([
  ['port', '8080'],
  ['flag', 'Yes'],
  ['bad', 'x1'],
  ['port', ' 9090 '],
]);

function message(fn) {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof PolicyError, `${e}`);
    return e.message;
  }
  assert.fail('did not throw');
}

test('last value wins and typed parses', () => {
  assert.equal(s.get('port'), ' 9090 ');
  assert.equal(s.getU16('port'), 9090);
  assert.equal(s.getU16('nope'), undefined);
  assert.equal(s.parseOr('nope', 'u32', 5), 5);
  assert.equal(s.getBool('flag'), true);
  assert.equal(s.getOr('nope', 'd'), 'd');
  assert.equal(s.length, 4);
  assert.equal(s.contains('bad'), true);
});

test('u64 is a BigInt without loss', () => {
  const big = new Settings([['n', '18446744073709551615']]);
  assert.equal(big.getU64('n'), 18446744073709551615n);
  assert.equal(
    message(() => new Settings([['n', '18446744073709551616']]).getU64('n')),
    'setting `n` = "18446744073709551616": expected u64: number too large to fit in target type',
  );
});

test('errors name the setting as Rust does', () => {
  assert.equal(message(() => s.require('url')), 'missing setting `url`');
  assert.equal(
    message(() => s.getU16('bad')),
    'setting `bad` = "x1": expected u16: invalid digit found in string',
  );
  assert.equal(
    message(() => s.getBool('bad')),
    'setting `bad` = "x1": expected true or false',
  );
  const cases = [
    ['', 'u16', 'setting `k` = "": expected u16: cannot parse integer from empty string'],
    ['  ', 'u16', 'setting `k` = "  ": expected u16: cannot parse integer from empty string'],
    ['+', 'u16', 'setting `k` = "+": expected u16: invalid digit found in string'],
    ['-1', 'u32', 'setting `k` = "-1": expected u32: invalid digit found in string'],
    ['65536', 'u16', 'setting `k` = "65536": expected u16: number too large to fit in target type'],
    ['-2147483649', 'i32', 'setting `k` = "-2147483649": expected i32: number too small to fit in target type'],
    // The first problem from the left decides: overflow before the bad digit.
    ['999999x', 'u16', 'setting `k` = "999999x": expected u16: number too large to fit in target type'],
    ['1e3', 'u32', 'setting `k` = "1e3": expected u32: invalid digit found in string'],
    ['a"b\\c\n\t', 'u16', 'setting `k` = "a\\"b\\\\c\\n\\t": expected u16: invalid digit found in string'],
    ['é\u0301\u200b\u00a0', 'u16', 'setting `k` = "é\\u{301}\\u{200b}\\u{a0}": expected u16: invalid digit found in string'],
    ['\ufeff5', 'u16', 'setting `k` = "\\u{feff}5": expected u16: invalid digit found in string'],
  ];
  for (const [raw, type, want] of cases) {
    assert.equal(message(() => new Settings([['k', raw]]).parse('k', type)), want, raw);
  }
  // Rust trims U+0085 (White_Space) but not U+FEFF; JavaScript's trim does the opposite.
  assert.equal(new Settings([['k', '\u00855\u3000']]).getU16('k'), 5);
  assert.equal(new Settings([['k', '+7']]).getU16('k'), 7);
  assert.equal(new Settings([['k', '-2147483648']]).getI32('k'), -2147483648);
  assert.equal(rustTrim('\ufeff x \u0085'), '\ufeff x');
});

test('quote is Rust Debug for str', () => {
  assert.equal(quote('plain'), '"plain"');
  assert.equal(quote("it's"), '"it\'s"');
  assert.equal(quote('\0\r\x7f'), '"\\0\\r\\u{7f}"');
  assert.equal(quote('日本'), '"日本"');
});

test('probe errors read as the Rust SDK writes them', () => {
  const cases = [
    [{ tag: 'denied', val: '10.0.0.1:80' }, 'denied by allowlist: 10.0.0.1:80'],
    [{ tag: 'timeout' }, 'timed out'],
    [{ tag: 'refused' }, 'refused'],
    [{ tag: 'failed', val: 'no route' }, 'no route'],
  ];
  for (const [payload, want] of cases) {
    const thrown = Object.assign(new Error('x'), { payload });
    const e = probeErrorOf(thrown);
    assert.ok(e instanceof ProbeError);
    assert.equal(e.message, want);
    assert.equal(e.kind, payload.tag);
    const r = attempt(() => {
      throw thrown;
    });
    assert.equal(r.ok, false);
    assert.equal(r.error.message, want);
  }
  assert.equal(probeErrorOf(new TypeError('x')), null);
  assert.throws(() => attempt(() => { throw new TypeError('bug'); }), TypeError);
  assert.deepEqual(attempt(() => 5), { ok: true, value: 5 });
});

test('verdicts', () => {
  assert.ok(healthy().isHealthy());
  const v = failed('down').weight(-20);
  assert.equal(v.reason(), 'down');
  assert.equal(v.weight(), -20);
  assert.deepEqual(v.toWit(), { health: { tag: 'failed', val: 'down' }, weight: -20 });
  assert.deepEqual(healthy().toWit(), { health: { tag: 'healthy' }, weight: undefined });
  assert.equal(failed('x').weight(), undefined);
  assert.throws(() => healthy().weight(2 ** 31), PolicyError);
  assert.throws(() => healthy().weight(1.5), PolicyError);
  assert.equal(failedFrom(new RangeError('boom')).reason(), 'boom');
  assert.equal(failedFrom('text').reason(), 'text');
  assert.equal(
    verdictToWit(undefined).health.val,
    'check returned undefined, not a verdict (healthy() or failed(reason))',
  );
});

test('states parse in any case', () => {
  assert.equal(parseState(' MASTER'), 'master');
  assert.equal(parseState('Init'), 'initialize');
  assert.throws(
    () => parseState('primary'),
    { message: 'unknown VRRP state "primary" (expected initialize, backup, master or fault)' },
  );
});
