import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getTransferSolInstruction } from '@solana-program/system';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { base58Decode } from '../../../functions/adapters/encoding/base58.ts';
import { solanaChainKind } from '../../../functions/adapters/solana/solana-chain-kind.ts';
import { run as scan } from '../../../functions/local/commands/scan.ts';
import { SolanaNode } from '../../support/solana/solana-node.ts';
import { solanaChainInput } from './helpers.ts';

/** The generic tools on a Solana chain: `breaker scan` over the stand-in, replay's synthetic hashes. */
describe('Solana in the tools', () => {
  let node: SolanaNode;
  let dir: string;
  beforeAll(() => {
    node = new SolanaNode();
    dir = mkdtempSync(join(tmpdir(), 'solana-scan-'));
  });
  afterAll(async () => {
    await node.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('breaker scan lists a range’s outflows with their instruction index', async () => {
    const view = await node.serve();
    const hot = await node.wallet(10n);
    const payee = await node.wallet(1n);
    node.endSlot();
    const from = node.finalizedSlot() + 1;
    node.skipSlots(1);
    const sent = await node.send(hot, [
      getTransferSolInstruction({ source: hot, destination: payee.address, amount: 123_456_789n }),
    ]);
    const to = node.endSlot();
    const config = join(dir, 'sol.yaml');
    writeFileSync(
      config,
      JSON.stringify({
        name: 'scan',
        chains: {
          sol: solanaChainInput({ rpc: [view.url], genesisHash: node.genesisHash, hotWallets: [hot.address] }),
        },
        limits: { global: { usd: { '1h': 1000 } } },
      }),
    );
    const out = join(dir, 'out.jsonl');
    expect(await scan(['--config', config, '--from', String(from), '--to', String(to), '--jsonl', out])).toBe(0);
    const lines = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toEqual([
      expect.objectContaining({
        chain: 'sol',
        block: to,
        txHash: sent.signature,
        instruction: 0,
        asset: 'SOL',
        amount: '123456789',
        from: hot.address,
        to: payee.address,
      }),
    ]);
  });

  it('replay’s synthetic hashes are base58 32-byte hashes', () => {
    const hash = solanaChainKind.hashFromHex(`${'00'.repeat(31)}ff`);
    expect(hash).toBe(`${'1'.repeat(31)}5Q`);
    expect(base58Decode(hash)).toHaveLength(32);
    expect(solanaChainKind.address.problem(solanaChainKind.hashFromHex('ab'.repeat(32)))).toBeUndefined();
  });
});
