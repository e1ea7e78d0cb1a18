// VRRP states as the Rust SDK shows and parses them.

import { PolicyError } from './errors.js';
import { asciiLowercase, quote, rustTrim } from './format.js';

const SHOWN = { initialize: 'INIT', backup: 'BACKUP', master: 'MASTER', fault: 'FAULT' };

/** 'master' → "MASTER" (Rust's `Display for VrrpState`). */
export function formatState(state) {
  return SHOWN[state] ?? String(state);
}

/** `initialize` (or `init`), `backup`, `master`, `fault`, in any case → the WIT enum value. */
export function parseState(text) {
  const s = asciiLowercase(rustTrim(String(text)));
  switch (s) {
    case 'initialize':
    case 'init':
      return 'initialize';
    case 'backup':
    case 'master':
    case 'fault':
      return s;
    default:
      throw new PolicyError(
        `unknown VRRP state ${quote(text)} (expected initialize, backup, master or fault)`,
      );
  }
}
