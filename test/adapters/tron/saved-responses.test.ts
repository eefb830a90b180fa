import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseLosslessJson } from '../../../functions/adapters/lossless-json.ts';
import { tronAddress } from '../../../functions/adapters/tron/addresses.ts';
import { needsInfo, transfersOfBlock } from '../../../functions/adapters/tron/outflows.ts';
import { parseBlock, parseTxInfo } from '../../../functions/adapters/tron/wire.ts';

/** Real java-tron answers (test/fixtures/tron/README.md says where each comes from). */
const fixture = (name: string) =>
  parseLosslessJson(readFileSync(new URL(`../../fixtures/tron/${name}`, import.meta.url), 'utf8'));

describe('saved Tron responses', () => {
  const raw = fixture('mainnet-block-13232131.json') as { transactions: { txID: string; raw_data_hex: string }[] };
  const block = parseBlock(raw, 'block');

  it('mainnet block 13,232,131: its transactions are the chain bytes (txID = sha256(raw_data_hex))', () => {
    for (const t of raw.transactions) {
      expect(createHash('sha256').update(Buffer.from(t.raw_data_hex, 'hex')).digest('hex')).toBe(t.txID);
    }
  });

  it('mainnet block 13,232,131: header, links and contracts as the reader sees them', () => {
    expect(block.ref).toEqual({
      number: 13_232_131,
      hash: '0000000000c9e803d5258a17e15172768b41ffb69e857530e7d9f7a92ccb78e8',
      parentHash: '0000000000c9e802e54079a6a84e92315f8b8dbcbefd9b151dc2317d27523049',
      time: 1_615_967_187,
    });
    expect(block.txs.map((t) => [t.result, t.contract.type])).toEqual([
      ['SUCCESS', 'TransferContract'],
      ['SUCCESS', 'TransferContract'],
      ['SUCCESS', 'TriggerSmartContract'],
    ]);
  });

  it('mainnet block 13,232,131: two 5,000 TRX outflows of the sender, in sun, to T-addresses', () => {
    const sender = tronAddress('4141f0a2b01c950b4d38c9abfe9b96579dea065168');
    const transfers = transfersOfBlock(block, new Map(), { chain: 'tron', hot: new Set([sender]) });
    expect(transfers.map((t) => [t.txHash.slice(0, 8), t.index, t.contract, t.from, t.to, t.amount])).toEqual([
      ['738c8bdf', null, null, sender, tronAddress('412e961e2d6493b2bc728d06d024c0e2a631063538'), 5_000_000_000n],
      ['5d79ef63', null, null, sender, tronAddress('4131ee9cedde5c5e0de33f26b3ba6596b0fef610f3'), 5_000_000_000n],
    ]);
  });

  it('mainnet block 13,232,131: a hot wallet’s TRC-20 call cannot be judged without its info (the reader fetches it)', () => {
    const caller = tronAddress('41bcaadebd7d6951971e4876f79fd95351bd5571dc');
    const call = block.txs[2]!;
    expect(needsInfo(call, new Set([caller]))).toBe(true);
    expect(() => transfersOfBlock(block, new Map(), { chain: 'tron', hot: new Set([caller]) })).toThrow(
      `no transaction info for ${call.id} in block 13232131`,
    );
  });

  it('Nile getblockbylimitnext: the header parses, blockID prefixed by its number', () => {
    const answer = fixture('nile-getblockbylimitnext-66987565-header.json') as { block: unknown[] };
    expect(parseBlock(answer.block[0], 'block').ref).toMatchObject({ number: 66_987_565, time: 1_777_445_121 });
  });

  it('Nile gettransactioninfobyblocknum: infos of plain transfers (no receipt result, no logs)', () => {
    const infos = (fixture('nile-gettransactioninfobyblocknum-66987565-first2.json') as unknown[]).map((i, n) =>
      parseTxInfo(i, `info[${n}]`),
    );
    expect(infos.map((i) => [i.blockNumber, i.receiptResult, i.logs, i.internal])).toEqual([
      [66_987_565, undefined, [], undefined],
      [66_987_565, undefined, [], undefined],
    ]);
  });
});
