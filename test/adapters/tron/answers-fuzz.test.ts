/**
 * Fuzz: the Tron reader's parsing of java-tron answers. The stand-in rewrites every answer the same
 * way — one JSON value (found by a walk over the answer) replaced by a random one — and the reader
 * must throw ChainReadError or return a well-formed read: bigint amounts ≥ 0, T-addresses, the
 * index scheme of outflows.ts. Never another error, never a crash. (java-tron's JSON carries no
 * protobuf the reader could re-check, so a garbled but well-formed amount is taken as given, as for
 * Esplora: run your own nodes, two of them.)
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tronAddressProblem } from '../../../functions/adapters/tron/addresses.ts';
import { ChainReadError } from '../../../functions/core/errors.ts';
import { startTronWorld, type TronWorld, transferParams, tronReader } from './helpers.ts';

const valueArb = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double(),
  fc.constantFrom(-1, 1e21, 2 ** 53 + 1),
  fc.string({ maxLength: 20 }),
  fc.constantFrom('00'.repeat(32), 'zz', '', '41'.padEnd(42, '0')),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 2 }),
);

/** Replace the `index`-th value met in a depth-first walk of `answer` (modulo their count). */
function replaceValue(answer: unknown, index: number, value: unknown): unknown {
  const copy = structuredClone(answer);
  const slots: [Record<string, unknown> | unknown[], string | number][] = [];
  const walk = (node: unknown) => {
    if (!node || typeof node !== 'object') return;
    const entries: [string | number, unknown][] = Array.isArray(node)
      ? node.map((v, k) => [k, v])
      : Object.entries(node);
    for (const [key, child] of entries) {
      slots.push([node as Record<string, unknown>, key]);
      walk(child);
    }
  };
  walk(copy);
  if (slots.length === 0) return value;
  const [parent, key] = slots[index % slots.length]!;
  (parent as Record<string | number, unknown>)[key] = value;
  return copy;
}

describe('TronChainReader on garbled answers (fuzz)', () => {
  let w: TronWorld;
  let from = 0;
  let to = 0;
  beforeAll(async () => {
    w = await startTronWorld();
    const payee = await w.node.key();
    from = w.node.fullHead + 1;
    await w.node.sendTrx(w.hot, payee.address, 1_000_000n);
    await w.node.sendToken(w.hot, payee.address, 7n, '1002000');
    await w.node.produce();
    await w.node.call(w.hot, w.usdt.address, 'transfer(address,uint256)', transferParams(payee.address, 5n));
    to = await w.node.produce();
  });
  afterAll(async () => {
    await w?.stop();
  });

  it('throws ChainReadError or returns a well-formed read, on both read paths', async () => {
    const state = { index: 0, value: undefined as unknown, path: '' };
    const garbled = await w.serve({
      rewrite: (path, answer) => (path.includes(state.path) ? replaceValue(answer, state.index, state.value) : answer),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.nat(400),
        valueArb,
        fc.constantFrom('getblockbylimitnext', 'gettransactioninfo', 'getblockbynum', 'getnowblock', '/jsonrpc'),
        fc.boolean(),
        async (index, value, path, jsonRpc) => {
          Object.assign(state, { index, value, path });
          const reader = tronReader({
            http: [garbled.url],
            ...(jsonRpc && { jsonRpc: [`${garbled.url}/jsonrpc`] }),
            genesisBlockId: w.node.genesisBlockId,
            hotWallets: [w.hot.address],
          });
          try {
            const read = await reader.readRange(from, to);
            for (const t of read.transfers) {
              expect(typeof t.amount).toBe('bigint');
              expect(t.amount > 0n).toBe(true);
              expect(tronAddressProblem(t.from)).toBeUndefined();
              expect(t.index === null || Number.isSafeInteger(t.index)).toBe(true);
            }
          } catch (e) {
            if (!(e instanceof ChainReadError)) throw e;
          }
        },
      ),
      { numRuns: 80 },
    );
  });
});
