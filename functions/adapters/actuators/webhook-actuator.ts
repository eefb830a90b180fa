import { setTimeout as sleep } from 'node:timers/promises';
import type { Actuator, ActuatorMode } from '../../core/actuators/actuator.ts';
import { webhookUrlProblem } from '../../core/actuators/config.ts';
import type { BreakerState } from '../../core/state.ts';
import {
  DELIVERY_HEADER,
  encodeKillSwitchWebhook,
  SIGNATURE_HEADER,
  signBody,
} from '../../kill-switch-protocol/index.ts';
import { redactEndpoint } from '../http/endpoint-url.ts';
import type { SecretSupplier } from '../secrets/cached-secrets.ts';

export interface WebhookActuatorOptions {
  deploymentName: string;
  url: string;
  /**
   * HMAC-SHA256 secret shared with the signing service (≥ 16 characters): a fixed value (local runs), or read at
   * run time (Secrets Manager in AWS), in which case a 401/403 re-reads it once, so a rotation needs no redeploy.
   */
  secret: string | SecretSupplier;
  /** Per attempt. @default 3000 */
  timeoutMs?: number;
  /** Further attempts after the first, on a network error, a timeout, 408, 429 or 5xx. @default 3 */
  retries?: number;
  chains?: readonly string[];
  /** @default 200 (doubling per retry, at most 2 s) */
  baseDelayMs?: number;
  fetch?: typeof fetch;
}

/**
 * POSTs the kill switch to the signing service on every halt and re-arm, signed with
 * X-Breaker-Signature (functions/kill-switch-protocol). A 2xx is success; a 4xx other than
 * 408/429 is final (the receiver refuses it: wrong secret, wrong URL) and fails at once.
 */
export class WebhookActuator implements Actuator {
  readonly id = 'webhook';
  readonly follows = 'scopes' as const;
  readonly description: string;
  readonly chains?: readonly string[];
  readonly #options: Required<Omit<WebhookActuatorOptions, 'chains' | 'fetch' | 'secret'>> & { fetch: typeof fetch };
  readonly #secret: Pick<SecretSupplier, 'label' | 'current'> & Partial<Pick<SecretSupplier, 'refresh'>>;

  constructor(options: WebhookActuatorOptions) {
    const problem = webhookUrlProblem(options.url);
    if (problem) throw new TypeError(`WebhookActuator: ${problem}: ${redactEndpoint(options.url)}`);
    if (typeof options.secret === 'string') {
      if (options.secret.length < 16) throw new TypeError('WebhookActuator: the secret must be at least 16 characters');
      const fixed = options.secret;
      this.#secret = { label: 'fixed secret', current: async () => fixed };
    } else {
      this.#secret = options.secret;
    }
    this.description = `signed webhook to the signing service at ${new URL(options.url).origin}`;
    this.chains = options.chains;
    this.#options = {
      deploymentName: options.deploymentName,
      url: options.url,
      timeoutMs: options.timeoutMs ?? 3000,
      retries: options.retries ?? 3,
      baseDelayMs: options.baseDelayMs ?? 200,
      fetch: options.fetch ?? fetch,
    };
  }

  async apply(mode: ActuatorMode, state: BreakerState): Promise<Record<string, unknown>> {
    const o = this.#options;
    const delivery = `${o.deploymentName}-v${state.version}-${mode}`;
    let last = '';
    let secret = await this.#signingSecret(() => this.#secret.current());
    // A fixed secret cannot have rotated: only a secret read at run time is worth reading again.
    const refresh = this.#secret.refresh?.bind(this.#secret);
    let refreshed = false;
    // The re-read after a refusal is one extra attempt on top of the retries.
    for (let attempt = 0; attempt <= o.retries + (refreshed ? 1 : 0); attempt++) {
      if (attempt > 0) await sleep(Math.min(2000, o.baseDelayMs * 2 ** (attempt - 1)));
      // Signed per attempt: the timestamp inside the signature stays fresh across retries.
      const body = encodeKillSwitchWebhook(state, o.deploymentName, mode, this.chains, Date.now());
      try {
        const res = await o.fetch(o.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            [SIGNATURE_HEADER]: signBody(secret, body, Date.now()),
            [DELIVERY_HEADER]: delivery,
          },
          body,
          signal: AbortSignal.timeout(o.timeoutMs),
        });
        await res.arrayBuffer().catch(() => undefined);
        if (res.ok) return { url: redactEndpoint(o.url), status: res.status, attempts: attempt + 1, delivery };
        last = `HTTP ${res.status}`;
        // Refused as unauthenticated: the secret may have been rotated since it was read. Read it again, once.
        if ((res.status === 401 || res.status === 403) && refresh && !refreshed) {
          refreshed = true;
          secret = await this.#signingSecret(refresh);
          continue;
        }
        if (res.status < 500 && res.status !== 408 && res.status !== 429) break;
      } catch (e) {
        last =
          e instanceof Error && e.name === 'TimeoutError'
            ? `no answer within ${o.timeoutMs} ms`
            : String((e as Error).message ?? e);
      }
    }
    throw new Error(`webhook ${redactEndpoint(o.url)}: ${last} (delivery ${delivery})`);
  }

  async #signingSecret(read: () => Promise<string>): Promise<string> {
    const secret = await read();
    if (secret.length < 16) throw new Error(`webhook secret (${this.#secret.label}) is shorter than 16 characters`);
    return secret;
  }

  manualSteps(mode: ActuatorMode): string[] {
    return [
      `Tell the signing service directly to ${mode === 'engaged' ? 'stop signing' : 'resume signing'} (its webhook endpoint ${redactEndpoint(this.#options.url)} did not accept the call).`,
      'Check the endpoint is up and that it verifies with the same secret.',
    ];
  }
}
