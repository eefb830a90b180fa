import { Contract, type Signer } from 'ethers';
import type { ChainConfig } from '../core/config/types.ts';
import { WithdrawalHaltedError } from '../guard/errors.ts';
import type { Approval, BreakerGuard } from '../guard/guard.ts';
import {
  type KillSwitchReceiver,
  type KillSwitchValue,
  keepKillSwitch,
  parseKillSwitchWebhook,
} from '../kill-switch-protocol/index.ts';

const ERC20 = ['function transfer(address to, uint256 amount) returns (bool)'];

export interface CustomerWithdrawal {
  withdrawalId: string;
  /** Asset symbol as in the config, e.g. "ETH" or "USDT". */
  asset: string;
  destination: string;
  /** Base units. */
  amount: bigint;
}

export type WithdrawalOutcome =
  | { status: 'sent'; withdrawalId: string; txHash: string; approval: Approval }
  | { status: 'rejected'; withdrawalId: string; error: WithdrawalHaltedError };

export interface ReferenceSigningServiceOptions {
  /** The hot wallet (an ethers Signer with a provider; a NonceManager when sends overlap). */
  wallet: Signer;
  guard: BreakerGuard;
  /** The chain this service signs for, from the breaker config (asset symbols → token contracts). */
  chain: ChainConfig;
  /** With it, `handleKillSwitchWebhook` accepts the breaker's signed webhook as a second stop. */
  webhook?: KillSwitchReceiver;
}

/**
 * The reference signing service: what an exchange's withdrawal signer looks like with the breaker
 * embedded. Every customer withdrawal goes through the guard — which approves it and records it as
 * approved, or throws — and only then is it signed with the hot key. The breaker's kill-switch
 * webhook, when configured, is a second stop that needs no table read.
 */
export class ReferenceSigningService {
  readonly #options: ReferenceSigningServiceOptions;
  #webhook: KillSwitchValue | undefined;
  readonly stats = { sent: 0, rejected: 0 };

  constructor(options: ReferenceSigningServiceOptions) {
    this.#options = options;
  }

  /** Check with the breaker, then sign and broadcast. Never signs after a rejection. */
  async withdraw(request: CustomerWithdrawal): Promise<WithdrawalOutcome> {
    const { guard, chain, wallet } = this.#options;
    const stop = this.#webhookStop();
    if (stop) {
      this.stats.rejected++;
      return { status: 'rejected', withdrawalId: request.withdrawalId, error: stop };
    }
    let approval: Approval;
    try {
      approval = await guard.check({ ...request, chain: chain.id });
    } catch (e) {
      if (!(e instanceof WithdrawalHaltedError)) throw e;
      this.stats.rejected++;
      return { status: 'rejected', withdrawalId: request.withdrawalId, error: e };
    }
    const token = [...chain.tokens.values()].find((t) => t.symbol === request.asset);
    const tx = token
      ? await (new Contract(token.contract as string, ERC20, wallet).getFunction('transfer')(
          request.destination,
          request.amount,
        ) as Promise<{ hash: string }>)
      : await wallet.sendTransaction({ to: request.destination, value: request.amount });
    this.stats.sent++;
    return { status: 'sent', withdrawalId: request.withdrawalId, txHash: tx.hash, approval };
  }

  /**
   * The breaker's kill-switch webhook (POST, raw body): verify, then keep what keepKillSwitch says
   * (a halt is never dropped for being older). Answers the HTTP status to send: 200 accepted (or
   * stale), 401 not verified.
   */
  handleKillSwitchWebhook(
    rawBody: string,
    headers: Record<string, string | string[] | undefined>,
    nowMs = Date.now(),
  ): number {
    const receiver = this.#options.webhook;
    if (!receiver) return 404;
    const parsed = parseKillSwitchWebhook(receiver, rawBody, headers, nowMs);
    if (!parsed.ok) return 401;
    this.#webhook = keepKillSwitch(this.#webhook, parsed.body.killSwitch);
    return 200;
  }

  #webhookStop(): WithdrawalHaltedError | undefined {
    const value = this.#webhook;
    if (!value) return undefined;
    const scope = ['global', `chain:${this.#options.chain.id}`].find((s) => value.scopes.includes(s));
    if (!scope) return undefined;
    return new WithdrawalHaltedError(
      'halted',
      `breaker kill-switch webhook: ${scope} halted (version ${value.version})`,
      { scope },
    );
  }
}
