/**
 * One error family for the whole breaker. `code` is a closed set so callers can branch on it
 * (`isBreakerError(e, 'STATE_CONFLICT')`) instead of parsing messages; adapters translate vendor
 * errors into these at the boundary.
 */
export type BreakerErrorCode =
  | 'CONFIG_INVALID'
  | 'STATE_CONFLICT'
  | 'CHAIN_READ'
  | 'STORE_UNAVAILABLE'
  | 'PUBLISH_FAILED'
  | 'RESET_REJECTED'
  | 'SCENARIO_INVALID'
  | 'LEASE_HELD'
  | 'WITHDRAWAL_HALTED'
  | 'ACTUATOR_FAILED'
  | 'STATE_MISSING';

export class BreakerError extends Error {
  readonly code: BreakerErrorCode;
  constructor(code: BreakerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A config file (or config-shaped event) failed validation; `issues` name each bad path. */
export class ConfigError extends BreakerError {
  readonly issues: readonly string[];
  constructor(source: string, issues: readonly string[]) {
    super('CONFIG_INVALID', `${source}: invalid config\n  - ${issues.join('\n  - ')}`);
    this.issues = issues;
  }
}

/** A conditional write lost a race; `current` is what the store holds now, when known. */
export class StateConflictError<T = unknown> extends BreakerError {
  readonly current: T | undefined;
  constructor(message: string, current?: T, options?: { cause?: unknown }) {
    super('STATE_CONFLICT', message, options);
    this.current = current;
  }
}

/** The chain could not be read (every endpoint failed, or answered something malformed). */
export class ChainReadError extends BreakerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CHAIN_READ', message, options);
  }
}

export class PublishError extends BreakerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('PUBLISH_FAILED', message, options);
  }
}

export class ResetRejectedError extends BreakerError {
  constructor(message: string) {
    super('RESET_REJECTED', message);
  }
}

export function isBreakerError(e: unknown, code?: BreakerErrorCode): e is BreakerError {
  return e instanceof BreakerError && (code === undefined || e.code === code);
}

/** ['chains','ethereum','rpc',0] → `chains.ethereum.rpc[0]` */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || '(root)';
}

/** The breaker state item does not exist: never initialised, or deleted (tamper). Never read as armed. */
export class StateMissingError extends BreakerError {
  constructor(message: string) {
    super('STATE_MISSING', message);
  }
}
