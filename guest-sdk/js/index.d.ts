// Types of @baton/policy (src/index.js), for editors and TypeScript checks.

export type VrrpState = 'initialize' | 'backup' | 'master' | 'fault';

export interface InstanceStatus {
  name: string;
  interface: string;
  vrid: number;
  state: VrrpState;
  basePriority: number;
  effectivePriority: number;
  master?: string;
  vips: string[];
  holdingVips: boolean;
}

export interface Facts {
  routerId: string;
  instance: InstanceStatus;
  /** Evaluations of this check for this instance before this one (u64). */
  run: bigint;
  /** Whether the previous evaluation was healthy (undefined on the first). */
  lastHealthy?: boolean;
}

export type SettingType =
  | 'u8' | 'u16' | 'u32' | 'u64' | 'i8' | 'i16' | 'i32' | 'i64' | 'f64' | 'bool' | 'string';
type Parsed<T extends SettingType> = T extends 'u64' | 'i64'
  ? bigint
  : T extends 'bool'
    ? boolean
    : T extends 'string'
      ? string
      : number;

export class Settings implements Iterable<[string, string]> {
  constructor(pairs?: Iterable<[string, string]>);
  get(key: string): string | undefined;
  getOr(key: string, fallback: string): string;
  require(key: string): string;
  contains(key: string): boolean;
  parse<T extends SettingType>(key: string, type: T): Parsed<T> | undefined;
  parseOr<T extends SettingType>(key: string, type: T, fallback: Parsed<T>): Parsed<T>;
  requireParse<T extends SettingType>(key: string, type: T): Parsed<T>;
  getU16(key: string): number | undefined;
  getU32(key: string): number | undefined;
  getU64(key: string): bigint | undefined;
  getI32(key: string): number | undefined;
  getBool(key: string): boolean | undefined;
  requireU16(key: string): number;
  requireU32(key: string): number;
  requireU64(key: string): bigint;
  [Symbol.iterator](): Iterator<[string, string]>;
  readonly length: number;
  isEmpty(): boolean;
}

export class Verdict {
  weight(): number | undefined;
  weight(n: number): Verdict;
  isHealthy(): boolean;
  reason(): string | undefined;
}
export function healthy(): Verdict;
export function failed(reason: string): Verdict;

export class PolicyError extends Error {}
export class ProbeError extends PolicyError {
  readonly kind: 'denied' | 'timeout' | 'refused' | 'failed';
  readonly detail?: string;
}
export type Attempt<T> = { ok: true; value: T } | { ok: false; error: ProbeError };
export function attempt<T>(fn: () => T): Attempt<T>;
export function describeProbeError(kind: string, detail?: string): string;

/** A string as Rust's `{:?}` shows it. */
export function quote(s: string): string;
export function formatState(state: VrrpState): string;
export function parseState(text: string): VrrpState;

export type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error';
export const log: {
  log(level: Level, ...args: unknown[]): void;
  trace(...args: unknown[]): void;
  debug(...args: unknown[]): void;
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
};

export class Instant {
  static now(): Instant;
  elapsedNs(): bigint;
  elapsedMs(): number;
}
export const clock: {
  monotonicNs(): bigint;
  sleepMs(ms: number): void;
  Instant: typeof Instant;
};

export interface HttpResponse {
  status: number;
  body: Uint8Array;
}
export const probe: {
  /** µs the connect took. */
  tcpConnect(host: string, port: number, timeoutMs: number): bigint;
  httpGet(url: string, timeoutMs: number, maxBody?: number): HttpResponse;
};
export const system: {
  processCount(name: string): number;
  processRunning(name: string, atLeast?: number): boolean;
  addressHeld(address: string): boolean;
  interfaceUp(name: string): boolean;
  readFile(path: string, maxBytes: number): Uint8Array | undefined;
};
export const remedy: { run(name: string): number };
export const vrrp: { instances(): InstanceStatus[] };

export type Check = (settings: Settings, facts: Facts) => Verdict | Promise<Verdict>;
export function exportCheck(check: Check): (settings: [string, string][], facts: Facts) => unknown;
