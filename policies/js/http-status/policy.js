// Healthy when an HTTP GET of `url` answers status `expect` (and, with
// `body-contains`, a body that contains that text within its first
// `max-body` bytes). The JavaScript port of policies/http-status: same
// settings, same defaults, same reasons.
//
// Settings: `url` (required, http://), `expect` (default 200), `timeout-ms`
// (default 200), `body-contains` (optional), `max-body` (default 4096, used
// only with `body-contains`).

import { attempt, failed, healthy, probe, quote } from '@baton/policy';

export function check(settings) {
  const url = settings.require('url');
  const expect = settings.getU16('expect') ?? 200;
  const timeoutMs = settings.getU32('timeout-ms') ?? 200;
  const needle = settings.get('body-contains');
  const maxBody = needle !== undefined ? (settings.getU32('max-body') ?? 4096) : 0;

  const r = attempt(() => probe.httpGet(url, timeoutMs, maxBody));
  if (!r.ok) return failed(`GET ${url}: ${r.error.message}`);
  const response = r.value;
  if (response.status !== expect) {
    return failed(`GET ${url}: status ${response.status} (expected ${expect})`);
  }
  if (needle !== undefined && !contains(response.body, new TextEncoder().encode(needle))) {
    return failed(`GET ${url}: body does not contain ${quote(needle)}`);
  }
  return healthy();
}

// Byte-wise, as the Rust policy compares (the body need not be UTF-8).
function contains(haystack, needle) {
  if (needle.length === 0) return true;
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) {
      if (haystack[i + j] !== needle[j]) continue outer;
    }
    return true;
  }
  return false;
}
