import type { Address, KeyPairSigner } from '@solana/kit';
import { getTransferSolInstruction } from '@solana-program/system';
import { getTransferCheckedInstruction } from '@solana-program/token';
import { parseUnits } from 'ethers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BitcoinChainReader } from '../../../functions/adapters/bitcoin/bitcoin-chain-reader.ts';
import { compileConfig } from '../../../functions/adapters/config/config-file.ts';
import { EvmChainReader } from '../../../functions/adapters/evm/evm-chain-reader.ts';
import { SolanaChainReader } from '../../../functions/adapters/solana/solana-chain-reader.ts';
import type { ChainReader } from '../../../functions/core/chain-kind.ts';
import type { BreakerConfig } from '../../../functions/core/config/types.ts';
import type { BreakerStore } from '../../../functions/core/ports.ts';
import { type PollResult, pollOnce } from '../../../functions/core/use-cases/poll-chain.ts';
import { createKillSwitch } from '../../../functions/guard/kill-switch.ts';
import { OffsetClock, RecordingPublisher } from '../../integration/harness.ts';
import { startAnvil } from '../../support/anvil.ts';
import { BitcoinTestNode, testWallet } from '../../support/bitcoin-node.ts';
import { startTestStore, type TestStore } from '../../support/dynamo.ts';
import { initialiseForTest } from '../../support/initialise.ts';
import { type NodeView, SolanaNode } from '../../support/solana/solana-node.ts';
import { ata, createAtaInstruction, createMint, fund, type TestMint } from '../../support/solana/tokens.ts';
import { solanaChainInput } from './helpers.ts';

const SOL = 1_000_000_000n;

/** The poller over the stand-in and dynalite: what reaches the ledger, and what trips. */
describe('Solana outflows through the poller, exactly once', () => {
  let node: SolanaNode;
  let view: NodeView;
  let db: TestStore;
  let hot: KeyPairSigner;
  let usdc: TestMint;

  beforeEach(async () => {
    node = new SolanaNode();
    view = await node.serve();
    db = await startTestStore();
    await initialiseForTest(db.store);
    hot = await node.wallet(10_000n);
    usdc = await createMint(node, 6);
    await fund(node, usdc, hot.address, 10n ** 15n);
    node.endSlot();
  });
  afterEach(async () => {
    await node.close();
    await db.close();
  });

  function solanaConfig(rpc: string[], startBlock: number): BreakerConfig {
    return compileConfig(
      {
        name: 'sol-poll',
        chains: {
          sol: solanaChainInput({
            rpc,
            genesisHash: node.genesisHash,
            hotWallets: [hot.address],
            tokens: [{ symbol: 'USDC', contract: usdc.address, decimals: 6, usdPrice: 1 }],
            startBlock,
            maxBlocksPerPoll: 4,
          }),
        },
        limits: { global: { usd: { '10m': 1_000_000_000 } } },
      },
      'test',
    );
  }

  /** Traffic over `slots` slots (every third skipped): returns `signature:asset:amount` per expected outflow. */
  async function traffic(slots: number): Promise<string[]> {
    const expected: string[] = [];
    for (let s = 0; s < slots; s++) {
      if (s % 3 === 2) {
        node.skipSlots(1);
        continue;
      }
      const payee = (await node.wallet(1n)).address;
      const sol = BigInt(s + 1) * 1_000_003n;
      const a = await node.send(hot, [getTransferSolInstruction({ source: hot, destination: payee, amount: sol })]);
      expected.push(`${a.signature}:SOL:${sol}`);
      const tokens = BigInt(s + 1) * 10n ** 6n;
      const b = await node.send(hot, [
        await createAtaInstruction(usdc, hot, payee),
        getTransferCheckedInstruction({
          source: await ata(usdc, hot.address),
          mint: usdc.address,
          destination: await ata(usdc, payee),
          authority: hot,
          amount: tokens,
          decimals: 6,
        }),
      ]);
      expected.push(
        `${b.signature}:USDC:${tokens}`,
        `${b.signature}:SOL:${node.svm.getBalance(await ata(usdc, payee))}`,
      );
      node.endSlot();
    }
    return expected.sort();
  }

  const poll = (config: BreakerConfig, reader: ChainReader, owner: string, store: BreakerStore = db.store) =>
    pollOnce({
      config,
      chain: config.chains.get('sol')!,
      reader,
      store,
      publisher: new RecordingPublisher(),
      clock: new OffsetClock(),
      owner,
      leaseMs: 30_000,
    }).then((r) => r.result);

  const ledger = async () =>
    (await db.store.outflowsSince('sol', 0)).map((r) => `${r.txHash}:${r.asset}:${r.amount}`).sort();

  it('records every outflow once through failed reads, restarts and pollers racing over the same slots', async () => {
    const start = node.finalizedSlot() + 1;
    const expected = await traffic(24);
    // An endpoint that answers null to every 7th getTransaction: reads fail mid-range and are retried.
    let n = 0;
    const flaky = await node.serve({
      rewrite: (method, _params, result) => (method === 'getTransaction' && n++ % 7 === 3 ? null : result),
    });
    const config = solanaConfig([flaky.url], start);
    const results: PollResult[] = [];
    let failed = 0;
    // Three pollers at once, each a fresh process every poll (a restart: no reader or cursor cache).
    await Promise.all(
      ['a', 'b', 'c'].map(async (owner) => {
        for (let k = 0; k < 40; k++) {
          const r = await poll(
            config,
            new SolanaChainReader(config.chains.get('sol')!, { backoffMs: 1, maxAttempts: 1 }),
            owner,
          ).catch(() => {
            failed++;
            return undefined;
          });
          if (r) results.push(r);
        }
      }),
    );
    const steady = new SolanaChainReader(config.chains.get('sol')!);
    for (let k = 0; k < 40 && (await poll(config, steady, 'd')).kind !== 'idle'; k++);
    expect(results.some((r) => r.kind === 'busy')).toBe(true);
    expect(failed).toBeGreaterThan(0);
    const recorded = await ledger();
    expect(recorded).toEqual(expected);
    const ids = (await db.store.outflowsSince('sol', 0)).map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    await flaky.close();
  });

  it('counts a Solana outflow toward the global USD limit together with EVM and Bitcoin outflows', async () => {
    const anvil = await startAnvil();
    const btc = new BitcoinTestNode({ startTime: Math.floor(Date.now() / 1000) - 60 });
    await btc.start();
    try {
      const evmHot = anvil.accounts[1]!;
      const btcHot = testWallet('hot', 'p2wpkh');
      const mined = btc.mine({ coinbase: [{ to: btcHot.address, value: 100_000_000n }] });
      const config = compileConfig(
        {
          name: 'three-chains',
          chains: {
            eth: {
              kind: 'evm',
              chainId: 31337,
              rpc: [anvil.url],
              confirmations: 0,
              blockTimeSeconds: 1,
              startBlock: (await anvil.provider.getBlockNumber()) + 1,
              explorer: 'https://etherscan.invalid',
              hotWallets: [evmHot.address],
              native: { symbol: 'ETH', decimals: 18, usdPrice: 2000 },
            },
            btc: {
              kind: 'bitcoin',
              network: 'regtest',
              rpc: [btc.rpcUrl],
              confirmations: 0,
              blockTimeSeconds: 600,
              startBlock: mined.height + 1,
              explorer: 'https://mempool.invalid',
              hotWallets: [btcHot.address],
              native: { symbol: 'BTC', decimals: 8, usdPrice: 100_000 },
            },
            sol: solanaChainInput({
              rpc: [view.url],
              genesisHash: node.genesisHash,
              hotWallets: [hot.address],
              startBlock: node.finalizedSlot() + 1,
            }),
          },
          limits: { global: { usd: { '10m': 10_000 } } },
        },
        'test',
      );
      const publisher = new RecordingPublisher();
      const pollChain = async (id: string, reader: ChainReader) => {
        for (let k = 0; k < 10; k++) {
          const r = await pollOnce({
            config,
            chain: config.chains.get(id)!,
            reader,
            store: db.store,
            publisher,
            clock: new OffsetClock(),
            owner: 'p',
            leaseMs: 30_000,
          });
          if (r.result.kind === 'idle') return;
        }
      };
      // $4,000 on each chain: 2 ETH at $2,000, 0.04 BTC at $100,000, 20 SOL at $200.
      await evmHot.sendTransaction({ to: anvil.accounts[7]!.address, value: parseUnits('2', 18) });
      const spend = btc.createTx(
        [{ utxo: { txid: mined.txids[0]!, vout: 0, value: 100_000_000n, script: btcHot.output }, wallet: btcHot }],
        [
          { to: testWallet('payee', 'p2wpkh').address, value: 4_000_000n },
          { to: btcHot.address, value: 95_990_000n },
        ],
      );
      btc.broadcast(spend);
      btc.mine({ time: Math.floor(Date.now() / 1000) });
      const sol = await node.send(hot, [
        getTransferSolInstruction({
          source: hot,
          destination: (await node.wallet(1n)).address as Address,
          amount: 20n * SOL,
        }),
      ]);
      node.endSlot();

      await pollChain('eth', new EvmChainReader(config.chains.get('eth')!));
      await pollChain('btc', new BitcoinChainReader(config.chains.get('btc')!));
      const killSwitch = createKillSwitch(db.store);
      expect((await killSwitch.isHalted({ chain: 'sol' })).halted).toBe(false);
      await pollChain('sol', new SolanaChainReader(config.chains.get('sol')!));
      expect((await killSwitch.isHalted({ chain: 'sol' })).halted).toBe(true);
      const trips = publisher.ofKind('trip');
      expect(trips).toHaveLength(1);
      expect(trips[0]!.text).toContain('global-usd-10m');
      expect(trips[0]!.text).toContain('$12,000.00');
      expect(trips[0]!.text).toContain(`https://explorer.solana.com/tx/${sol.signature}`);
    } finally {
      await btc.stop();
      await anvil.stop();
    }
  });
});
