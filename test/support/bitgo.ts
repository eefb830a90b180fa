/**
 * A stand-in for BitGo's side of a webhook policy rule, from what BitGo documents
 * (developers.bitgo.com/docs/policies-webhook, cookbooks/policies-webhook): on each transaction of
 * the wallet BitGo POSTs JSON to the rule's URL; HTTP 200 continues, any other status (or none)
 * triggers the rule's action (deny, or hold for approval).
 *
 * Not documented, so assumed (and configurable in the breaker): the body's key names — `walletId`,
 * `ruleId`, `spendAmount`, `approvalCount`, `halfSigned.txHex`, `outputs[{address, amount}]` with
 * amounts in base units — and the answer deadline (10 s here).
 */
export type BitgoOutcome = { kind: 'continue' } | { kind: 'rule-action'; status?: number; reason: string };

export interface BitgoTransaction {
  walletId: string;
  outputs: { address: string; amount: string }[];
  /** Distinguishes transactions with the same outputs, as the half-signed hex does. */
  nonce?: string;
}

export function bitgoPolicyBody(tx: BitgoTransaction): Record<string, unknown> {
  const spend = tx.outputs.every((o) => /^\d+$/.test(o.amount))
    ? tx.outputs.reduce((sum, o) => sum + BigInt(o.amount), 0n).toString()
    : tx.outputs.map((o) => o.amount).join('+');
  return {
    walletId: tx.walletId,
    ruleId: 'breaker-webhook-rule',
    spendAmount: spend,
    approvalCount: 0,
    halfSigned: { txHex: `0100000001${tx.nonce ?? '00'}ffffffff` },
    outputs: tx.outputs,
  };
}

export class BitgoStandIn {
  constructor(
    public url: string,
    readonly deadlineMs = 10_000,
  ) {}

  /** Ask the policy URL about one transaction and read the answer as BitGo does. */
  async evaluate(body: Record<string, unknown> | string): Promise<BitgoOutcome> {
    try {
      const res = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: typeof body === 'string' ? body : JSON.stringify(body),
        signal: AbortSignal.timeout(this.deadlineMs),
      });
      const text = await res.text();
      return res.status === 200 ? { kind: 'continue' } : { kind: 'rule-action', status: res.status, reason: text };
    } catch (e) {
      return { kind: 'rule-action', reason: String(e) };
    }
  }
}
