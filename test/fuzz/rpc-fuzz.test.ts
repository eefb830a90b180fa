/**
 * Fuzz: the EVM reader's response parsing (rpc-shapes.ts checks, then the reader's decoding) over a
 * random chain served by an in-memory JSON-RPC endpoint, with one field of one block, transaction,
 * log or receipt garbled — or a whole answer replaced. The reader must throw ChainReadError or skip
 * what is not a transfer, never crash, and never report an amount the chain did not hold.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EvmChainReader } from '../../functions/adapters/evm/evm-chain-reader.ts';
import { ChainReadError } from '../../functions/core/errors.ts';
import { evmChainConfig } from '../adapters/evm/fixtures.ts';

const TRANSFER = '0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef';
const HOT = `0x${'1a'.repeat(20)}`;
const OTHER = `0x${'2b'.repeat(20)}`;
const TOKEN = `0x${'3c'.repeat(20)}`;
const FIRST = 100;

type Json = Record<string, unknown>;

interface Chain {
  blocks: Json[];
  logs: Json[];
  receipts: Map<string, Json[]>;
  /** What an honest reader must find: id → amount. */
  expected: Map<string, bigint>;
}

const hex = (n: bigint | number) => `0x${n.toString(16)}`;
const word = (n: bigint) => `0x${n.toString(16).padStart(64, '0')}`;
const topic = (address: string) => `0x${'0'.repeat(24)}${address.slice(2)}`;
const hash32 = (seed: number) => `0x${seed.toString(16).padStart(8, '0')}${'ab'.repeat(28)}`;

const txArb = fc.record({
  fromHot: fc.boolean(),
  value: fc.oneof(fc.constant(0n), fc.bigInt({ min: 1n, max: 2n ** 100n })),
  toNull: fc.boolean(),
  reverted: fc.boolean(),
  logs: fc.array(
    fc.record({ fromHot: fc.boolean(), amount: fc.bigInt({ min: 0n, max: 2n ** 200n }), nft: fc.boolean() }),
    { maxLength: 3 },
  ),
});

const chainArb: fc.Arbitrary<Chain> = fc
  .array(fc.array(txArb, { maxLength: 4 }), { minLength: 1, maxLength: 3 })
  .map((blocksTxs) => {
    const blocks: Json[] = [];
    const logs: Json[] = [];
    const receipts = new Map<string, Json[]>();
    const expected = new Map<string, bigint>();
    let seed = 1;
    let parent = hash32(seed++);
    blocksTxs.forEach((txs, b) => {
      const number = FIRST + b;
      const blockHash = hash32(seed++);
      const transactions: Json[] = [];
      const blockReceipts: Json[] = [];
      let logIndex = 0;
      txs.forEach((t, i) => {
        const txHash = hash32(seed++);
        const from = t.fromHot ? HOT : OTHER;
        transactions.push({
          hash: txHash,
          from,
          to: t.toNull ? null : OTHER,
          value: hex(t.value),
          transactionIndex: hex(i),
        });
        blockReceipts.push({
          transactionHash: txHash,
          blockHash,
          status: t.reverted ? '0x0' : '0x1',
          gasUsed: '0x5208',
          effectiveGasPrice: '0x3b9aca00',
          contractAddress: t.toNull ? TOKEN : null,
        });
        if (t.fromHot && t.value > 0n && !t.reverted) expected.set(`${txHash}:native`, t.value);
        if (t.reverted) return;
        for (const l of t.logs) {
          const index = logIndex++;
          const topics = [TRANSFER, topic(l.fromHot ? HOT : OTHER), topic(OTHER), ...(l.nft ? [word(l.amount)] : [])];
          logs.push({
            address: TOKEN,
            topics,
            data: l.nft ? '0x' : word(l.amount),
            blockNumber: hex(number),
            blockHash,
            transactionHash: txHash,
            transactionIndex: hex(i),
            logIndex: hex(index),
            removed: false,
          });
          if (l.fromHot && !l.nft && l.amount > 0n) expected.set(`${txHash}:${index}`, l.amount);
        }
      });
      blocks.push({
        number: hex(number),
        hash: blockHash,
        parentHash: parent,
        timestamp: hex(1_700_000_000 + b * 12),
        transactions,
      });
      receipts.set(blockHash, blockReceipts);
      parent = blockHash;
    });
    return { blocks, logs, receipts, expected };
  });

/** Malformed values only: a well-formed lie (another valid amount) is the node's word, not a parsing bug. */
const garbage = fc
  .oneof(
    // (No empty list: "no transactions", "no logs" are well-formed answers — a lie the parser cannot see.)
    fc.constantFrom(
      undefined,
      null,
      0,
      1,
      -1,
      1.5,
      true,
      '',
      '0x',
      '0xZZ',
      '12',
      '-0x1',
      'latest',
      '0x-1',
      ' 0x1',
      '0x1 ',
      {},
      ['0x1'],
      [null],
    ),
    fc.constant(`0x${'f'.repeat(65)}`),
    fc.constant(`0x${'1'.repeat(63)}g`),
    fc.string({ maxLength: 20 }),
  )
  .filter((v) => !(typeof v === 'string' && /^0x[0-9a-fA-F]+$/.test(v)));

type Target = 'block' | 'transaction' | 'log' | 'receipt';
const FIELDS: Record<Target, string[]> = {
  block: ['number', 'hash', 'parentHash', 'timestamp', 'transactions', '*'],
  transaction: ['hash', 'from', 'to', 'value', 'transactionIndex', '*'],
  log: [
    'address',
    'topics',
    'topics.0',
    'topics.1',
    'topics.2',
    'data',
    'blockNumber',
    'blockHash',
    'transactionHash',
    'transactionIndex',
    'logIndex',
    '*',
  ],
  receipt: ['transactionHash', 'blockHash', 'status', 'gasUsed', 'effectiveGasPrice', 'contractAddress', '*'],
};

const mutationArb = fc.oneof(
  fc.constantFrom<Target>('block', 'transaction', 'log', 'receipt').chain((target) =>
    fc.record({
      kind: fc.constant('field' as const),
      target: fc.constant(target),
      index: fc.nat(),
      field: fc.constantFrom(...FIELDS[target]),
      value: garbage,
    }),
  ),
  fc.record({
    kind: fc.constant('answer' as const),
    method: fc.constantFrom('eth_getBlockByNumber', 'eth_getLogs', 'eth_getBlockReceipts'),
    value: garbage,
  }),
);

type Mutation = typeof mutationArb extends fc.Arbitrary<infer M> ? M : never;

function setField(item: Json, field: string, value: unknown): void {
  const [head, sub] = field.split('.');
  if (sub !== undefined) {
    const arr = item[head as string];
    if (Array.isArray(arr) && arr.length > Number(sub)) arr[Number(sub)] = value;
    return;
  }
  if (value === undefined) delete item[head as string];
  else item[head as string] = value;
}

/** The endpoint: answers from `chain`, with the mutation applied to what it serves; and which log it garbled. */
function fakeEndpoint(chain: Chain, m: Mutation): { fetch: typeof fetch; mutatedLog?: string } {
  const served = structuredClone({ blocks: chain.blocks, logs: chain.logs, receipts: [...chain.receipts] });
  const receipts = new Map(served.receipts);
  let mutatedLogKey: string | undefined;
  if (m.kind === 'field') {
    if (m.target === 'block') setField(served.blocks[m.index % served.blocks.length] as Json, m.field, m.value);
    if (m.target === 'transaction') {
      const txs = served.blocks.flatMap((b) => b.transactions as Json[]);
      const tx = txs[m.index % Math.max(1, txs.length)];
      if (tx) setField(tx, m.field, m.value);
    }
    if (m.target === 'log' && served.logs.length > 0) {
      const log = served.logs[m.index % served.logs.length] as Json;
      const original = chain.logs[m.index % served.logs.length] as Json;
      mutatedLogKey = `${String(original.transactionHash)}:${Number(original.logIndex)}`;
      setField(log, m.field, m.value);
    }
    if (m.target === 'receipt') {
      const all = [...receipts.values()].flat();
      const r = all[m.index % Math.max(1, all.length)];
      if (r) setField(r, m.field, m.value);
    }
  }
  const answer = (method: string, params: unknown[]): unknown => {
    if (m.kind === 'answer' && m.method === method) return m.value ?? null;
    switch (method) {
      case 'eth_chainId':
        return '0x7a69';
      case 'eth_blockNumber':
        return hex(FIRST + served.blocks.length - 1);
      case 'eth_getBlockByNumber':
        return served.blocks.find((b) => chain.blocks[served.blocks.indexOf(b)]?.number === params[0]) ?? null;
      case 'eth_getLogs':
        return served.logs;
      case 'eth_getBlockReceipts':
        return receipts.get(params[0] as string) ?? null;
      default:
        return null;
    }
  };
  const fetchFn = (async (_url: unknown, init?: RequestInit) => {
    const body = JSON.parse(String(init?.body)) as Json | Json[];
    const calls = Array.isArray(body) ? body : [body];
    const replies = calls.map((c) => ({
      jsonrpc: '2.0',
      id: c.id,
      result: answer(c.method as string, c.params as unknown[]),
    }));
    return new Response(JSON.stringify(Array.isArray(body) ? replies : replies[0]), { status: 200 });
  }) as typeof fetch;
  return { fetch: fetchFn, mutatedLog: mutatedLogKey };
}

function reader(fetchFn: typeof fetch) {
  const config = evmChainConfig({ rpc: ['http://fake.invalid'], hotWallets: [HOT] });
  return new EvmChainReader(config, { fetch: fetchFn, maxAttempts: 1, backoffMs: 0 });
}

describe('EVM response parsing fuzz', () => {
  it('an untouched random chain reads exactly', async () => {
    await fc.assert(
      fc.asyncProperty(chainArb, async (chain) => {
        const r = reader(fakeEndpoint(chain, { kind: 'answer', method: 'none' as never, value: null }).fetch);
        const read = await r.readRange(FIRST, FIRST + chain.blocks.length - 1);
        const got = new Map(read.transfers.map((t) => [`${t.txHash}:${t.index ?? 'native'}`, t.amount]));
        expect(got).toEqual(chain.expected);
      }),
      { numRuns: 150 },
    );
  });

  it('garbled answers: ChainReadError or a skipped log, never a crash, never a wrong amount', async () => {
    await fc.assert(
      fc.asyncProperty(chainArb, mutationArb, async (chain, m) => {
        const { fetch: fetchFn, mutatedLog } = fakeEndpoint(chain, m);
        let read: Awaited<ReturnType<EvmChainReader['readRange']>>;
        try {
          read = await reader(fetchFn).readRange(FIRST, FIRST + chain.blocks.length - 1);
        } catch (e) {
          if (e instanceof ChainReadError) return;
          throw new Error(`crashed with ${(e as Error).constructor.name}: ${(e as Error).message}`, { cause: e });
        }
        // A receipt without a status is read as successful (as before Byzantium): counted, not lost.
        const statusless =
          m.kind === 'field' && m.target === 'receipt' && m.field === 'status' && m.value === undefined;
        for (const t of read.transfers) {
          const id = `${t.txHash}:${t.index ?? 'native'}`;
          if (statusless && t.index === null && !chain.expected.has(id)) continue;
          expect(chain.expected.has(id), `reported ${id}, which is not an outflow`).toBe(true);
          expect(t.amount, `amount of ${id}`).toBe(chain.expected.get(id));
        }
        const got = new Set(read.transfers.map((t) => `${t.txHash}:${t.index ?? 'native'}`));
        const missing = [...chain.expected.keys()].filter((id) => !got.has(id));
        // Only a garbled log may be dropped (it no longer decodes as an ERC-20 Transfer).
        expect(
          missing.filter((id) => id !== mutatedLog),
          `silently dropped ${missing.join(', ')}`,
        ).toEqual([]);
      }),
      { numRuns: 2000 },
    );
    // 2,000 runs: 31 s idle, 50 s at load 20 (issue 20's soak).
  }, 180_000);

  it('random bytes as the whole HTTP body: ChainReadError', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), async (bytes) => {
        const fetchFn = (async () => new Response(Buffer.from(bytes), { status: 200 })) as unknown as typeof fetch;
        await expect(reader(fetchFn).readRange(FIRST, FIRST)).rejects.toBeInstanceOf(ChainReadError);
      }),
      { numRuns: 200 },
    );
  });
});
