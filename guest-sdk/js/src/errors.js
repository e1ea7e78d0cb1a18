// The Rust SDK's `Error` and `ProbeError`, as JavaScript exceptions.

/**
 * A policy error: thrown out of `check`, it becomes `failed(message)`
 * (`baton_guest::Error`). Settings and capabilities throw it.
 */
export class PolicyError extends Error {
  constructor(message) {
    super(message);
    this.name = 'PolicyError';
  }
}

/**
 * Why a capability call gave no answer (WIT `probe-error`). `kind` is
 * `denied`, `timeout`, `refused` or `failed`; `detail` the host's text for
 * denied and failed. The message is the Rust SDK's `Error::from(ProbeError)`.
 */
export class ProbeError extends PolicyError {
  constructor(kind, detail) {
    super(describeProbeError(kind, detail));
    this.name = 'ProbeError';
    this.kind = kind;
    this.detail = detail;
  }
}

/** `describe_probe_error` of the Rust SDK. */
export function describeProbeError(kind, detail) {
  switch (kind) {
    case 'denied':
      return `denied by allowlist: ${detail}`;
    case 'timeout':
      return 'timed out';
    case 'refused':
      return 'refused';
    case 'failed':
      return String(detail);
    default:
      return `unknown probe error ${String(kind)}`;
  }
}

/**
 * The `probe-error` carried by what a WIT import threw, if it is one:
 * componentize-js throws an Error whose `payload` is the err case
 * (`{ tag, val }`).
 */
export function probeErrorOf(thrown) {
  if (thrown instanceof ProbeError) return thrown;
  if (thrown === null || typeof thrown !== 'object') return null;
  const payload = 'payload' in thrown ? thrown.payload : thrown;
  if (payload === null || typeof payload !== 'object') return null;
  switch (payload.tag) {
    case 'denied':
    case 'failed':
      return new ProbeError(payload.tag, String(payload.val));
    case 'timeout':
    case 'refused':
      return new ProbeError(payload.tag);
    default:
      return null;
  }
}

/**
 * Runs `fn` (a capability call): `{ ok: true, value }`, or
 * `{ ok: false, error }` with the `ProbeError` it threw. Any other exception
 * goes on up. For checks that fail with their own words around the host's:
 *
 *     const r = attempt(() => probe.httpGet(url, 200));
 *     if (!r.ok) return failed(`GET ${url}: ${r.error.message}`);
 */
export function attempt(fn) {
  try {
    return { ok: true, value: fn() };
  } catch (e) {
    const error = probeErrorOf(e);
    if (error) return { ok: false, error };
    throw e;
  }
}
