import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChainReadError } from '../../../functions/core/errors.ts';
import { XrplLedgerServer } from '../../support/xrpl/ledger-server.ts';
import { startXrplWorld, type XrplWorld } from './helpers.ts';

/**
 * Reader behaviour across endpoints: failover on lgrNotFound, not-validated answers, broken links,
 * the network pin, the head cross-check, batches and the account_tx mode. Faults are set on the
 * stand-in servers (each serves the same ledger engine).
 */
describe('XrplChainReader across endpoints', () => {
  let w: XrplWorld;
  let second: XrplLedgerServer;
  let third: XrplLedgerServer;
  let from = 0;
  let to = 0;

  beforeAll(async () => {
    w = await startXrplWorld();
    second = new XrplLedgerServer(w.engine);
    third = new XrplLedgerServer(w.engine);
    await second.start();
    await third.start();
    from = w.engine.validatedIndex + 1;
    for (let i = 0; i < 6; i++) {
      w.engine.payXrp(w.hot, w.customer.classicAddress, BigInt(1_000 + i));
      w.engine.payIou(w.hot, w.customer.classicAddress, 'USD', w.issuer.classicAddress, `${i + 1}.25`);
      w.engine.payXrp(w.customer, w.cold.classicAddress, 5n);
      w.engine.close();
    }
    to = w.engine.validatedIndex;
  });
  afterAll(async () => {
    await Promise.all([w.stop(), second.stop(), third.stop()]);
  });

  function clearFaults() {
    for (const s of [w.server, second, third])
      for (const k of Object.keys(s.faults)) delete s.faults[k as keyof typeof s.faults];
  }

  it('fails over when the first endpoint has pruned the range (lgrNotFound), and says why', async () => {
    clearFaults();
    w.server.faults.historyFrom = to + 1;
    const reader = w.reader({ rpc: [w.server.url, second.url] });
    const read = await reader.readRange(from, to);
    expect(read.transfers).toHaveLength(12);
    expect(reader.counters().endpointFailures).toBe(1);
    const both = w.reader({ rpc: [w.server.url, w.server.url.replace(/\/$/, '/again')] });
    const error = await both.readRange(from, to).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChainReadError);
    expect((error as Error).message).toMatch(
      /readRange\(\d+, \d+\) failed on every endpoint:\n {2}- http:\/\/127\.0\.0\.1:\d+: ledger \(ledger_index=\d+\): lgrNotFound: ledgerNotFound/,
    );
  });

  it('refuses a ledger that is not validated and reads it from the next endpoint', async () => {
    clearFaults();
    w.server.faults.unvalidated = new Set([from + 2]);
    const reader = w.reader({ rpc: [w.server.url, second.url] });
    expect((await reader.readRange(from, to)).blocks).toHaveLength(to - from + 1);
    expect(reader.counters().endpointFailures).toBe(1);
    const alone = await w
      .reader()
      .readRange(from, to)
      .catch((e: unknown) => e);
    expect((alone as Error).message).toMatch(new RegExp(`ledger ${from + 2} is not validated on this endpoint`));
  });

  it('refuses ledgers that do not link by parent hash (an endpoint lying about one ledger)', async () => {
    clearFaults();
    w.server.faults.tamper = (result, index) => {
      if (index === from + 3) (result.ledger as Record<string, unknown>).parent_hash = 'AB'.repeat(32);
    };
    const error = await w
      .reader()
      .readRange(from, to)
      .catch((e: unknown) => e);
    expect((error as Error).message).toMatch(new RegExp(`ledger ${from + 3} \\(\\w+\\) has parent ABAB`));
    const reader = w.reader({ rpc: [w.server.url, second.url] });
    expect((await reader.readRange(from, to)).transfers).toHaveLength(12);
  });

  it('names the endpoint and what is malformed (a transaction without metadata)', async () => {
    clearFaults();
    w.server.faults.tamper = (result) => {
      for (const t of ((result.ledger as Record<string, unknown>).transactions as Record<string, unknown>[]) ?? []) {
        delete t.meta;
      }
    };
    const error = await w
      .reader()
      .readRange(from, from)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChainReadError);
    expect((error as Error).message).toMatch(
      /http:\/\/127\.0\.0\.1:\d+: malformed response: transaction [0-9A-F]{64}: meta is not an object/,
    );
  });

  it('pins the network: an endpoint that serves another network_id is not used', async () => {
    clearFaults();
    w.server.faults.networkId = 1;
    const error = await w
      .reader()
      .head()
      .catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/serves network_id 1, but the config says networkId 0/);
    expect(await w.reader({ networkId: 1 }).head()).toBe(w.engine.validatedIndex);
  });

  it('head cross-check: a lagging endpoint is not used, the head is what the others agree on', async () => {
    clearFaults();
    second.faults.headAt = to - 3;
    const reader = w.reader({ rpc: [second.url, w.server.url, third.url], maxLagLedgers: 2 });
    expect(await reader.head()).toBe(to);
    expect(second.log.calls.ledger ?? 0).toBeGreaterThan(0);
    const before = second.log.calls.ledger ?? 0;
    await reader.readRange(from, to);
    expect(second.log.calls.ledger ?? 0).toBe(before);
  });

  it('head cross-check: one endpoint against a majority is suspended; one against one stops the reads', async () => {
    clearFaults();
    third.faults.tamper = (result) => {
      (result.ledger as Record<string, unknown>).ledger_hash = 'CD'.repeat(32);
      result.ledger_hash = 'CD'.repeat(32);
    };
    const three = w.reader({ rpc: [third.url, w.server.url, second.url] });
    expect(await three.head()).toBe(to);
    const thirdCalls = third.log.calls.ledger ?? 0;
    expect((await three.readRange(from, to)).transfers).toHaveLength(12);
    expect(third.log.calls.ledger).toBe(thirdCalls);

    const two = w.reader({ rpc: [third.url, w.server.url] });
    const error = await two.head().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChainReadError);
    expect((error as Error).message).toMatch(/endpoints disagree on validated ledger \d+ with no majority/);
  });

  it('batches ledgers into rippled batch requests, and explains a server that refuses them', async () => {
    clearFaults();
    const single = w.reader();
    const batched = w.reader({ batchSize: 10 });
    const a = await single.readRange(from, to);
    const b = await batched.readRange(from, to);
    expect(b).toEqual(a);
    expect(single.counters().httpRequests).toBe(1 + (to - from + 1));
    expect(batched.counters().httpRequests).toBe(2);
    expect(batched.counters().rpcCalls).toBe(single.counters().rpcCalls);

    w.server.faults.refuseBatch = true;
    const error = await w
      .reader({ batchSize: 10 })
      .readRange(from, to)
      .catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/does this server accept rippled's "batch" method\? set batchSize: 1/);
  });

  it('account_tx mode finds the same transfers with one call per wallet plus headers', async () => {
    clearFaults();
    const ledgerMode = await w.reader().readRange(from, to);
    const reader = w.reader({ readMode: 'account_tx' });
    const accountMode = await reader.readRange(from, to);
    expect(accountMode).toEqual(ledgerMode);
    expect(w.server.log.calls.account_tx).toBeGreaterThan(0);
  });

  it('account_tx mode fails over when a server searched less history than asked', async () => {
    clearFaults();
    w.server.faults.accountTxFrom = from + 2;
    const error = await w
      .reader({ readMode: 'account_tx' })
      .readRange(from, to)
      .catch((e: unknown) => e);
    expect((error as Error).message).toMatch(
      new RegExp(`asked for ledgers ${from}–${to}, the server searched ${from + 2}–${to} \\(history not available\\)`),
    );
    const reader = w.reader({ readMode: 'account_tx', rpc: [w.server.url, second.url] });
    expect((await reader.readRange(from, to)).transfers).toHaveLength(12);
  });

  it('retries after 503s only by moving to the next endpoint, never by skipping ledgers', async () => {
    clearFaults();
    w.server.faults.fail503 = 1;
    const reader = w.reader({ rpc: [w.server.url, second.url] });
    const read = await reader.readRange(from, to);
    expect(read.blocks.map((b) => b.number)).toEqual(Array.from({ length: to - from + 1 }, (_, i) => from + i));
  });
});
