/**
 * Realistic hot-wallet traffic on a local anvil (automine off), with the ground truth of every outflow
 * sent. Each block carries several hot-wallet withdrawals (native ETH and two ERC-20s); some blocks add
 * a batch payout (Disperse.disperseToken: one Transfer log per recipient, in a transaction the hot wallet
 * sent to Disperse, not to the token), a `transferFrom` out of a hot wallet by an approved third party,
 * a native send from a hot wallet to a contract that reverts (mined with status 0: not an outflow),
 * a sweep to the cold wallet (an outflow to an own address), a token the config does not know; and noise:
 * transfers between other accounts and deposits INTO the hot wallets (not outflows).
 *
 * Transactions are signed here with explicit nonces and sent in one JSON-RPC batch per block, then
 * the block is mined with evm_mine: two HTTP requests per block.
 */
import { ContractFactory, getCreateAddress, Interface, keccak256, toUtf8Bytes } from 'ethers';
import { Disperse, RevertOnReceive, TestToken } from '../../functions/local/contracts/artifacts.ts';
import { devAccountKeys, RawSigner, rpc, rpcBatch, type SignedTx, seededRandom, sendRaw } from './chain-tools.ts';

const TRANSFER_TOPIC = '0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef';
const erc20 = new Interface(TestToken.abi);
const disperse = new Interface(Disperse.abi);

/** One outflow the breaker must record: identified as the breaker identifies it. */
export interface ExpectedOutflow {
  /** `${chain}:${txHash}:${logIndex | 'native'}` (outflowId). */
  id: string;
  block: number;
  txHash: string;
  index: number | null;
  /** Lower-case token contract; null for ETH. */
  contract: string | null;
  from: string;
  to: string;
  amount: bigint;
}

export interface TrafficStats {
  blocks: number;
  transactions: number;
  /** Outflows the breaker must record (every kind below that moves value out of a hot wallet). */
  outflows: number;
  nativeOutflows: number;
  tokenOutflows: number;
  batchPayoutTransactions: number;
  batchPayoutTransfers: number;
  thirdPartyTransferFroms: number;
  revertedHotSends: number;
  sweepsToColdWallet: number;
  unknownTokenTransfers: number;
  /** Transactions that move nothing out of a hot wallet (other accounts, deposits into hot wallets). */
  noiseTransactions: number;
}

export interface Traffic {
  url: string;
  /** The chain id the outflow ids use. */
  chain: string;
  hotWallets: string[];
  cold: string;
  tokens: { usdt: string; wbtc: string; odd: string };
  /** First block carrying generated traffic (blocks before it deploy and fund the contracts). */
  firstBlock: number;
  lastBlock: number;
  expected: ExpectedOutflow[];
  stats: TrafficStats;
  /** Wall-clock seconds spent generating (signing, sending, mining). */
  seconds: number;
}

export interface TrafficOptions {
  blocks: number;
  /** Chain id used in outflow ids (the config's chain key). */
  chain: string;
  /** Chain seconds between blocks (anvil_setBlockTimestampInterval): 12 = Ethereum mainnet. */
  blockSeconds?: number;
  seed?: number;
  onProgress?: (done: number, total: number) => void;
  /** Called with each block's transactions before they are sent: a signing service asks its guard here. */
  beforeSend?: (txs: readonly SignedTx[]) => Promise<void>;
}

interface Sent {
  tx: SignedTx;
  block: number;
  expectStatus: 0 | 1;
  /** Value this transaction moves out of hot wallets, in order of its logs (native first). */
  outflows: Omit<ExpectedOutflow, 'id' | 'block' | 'txHash' | 'index'>[];
}

interface Receipt {
  transactionHash: string;
  blockNumber: string;
  status: string;
  logs: { address: string; topics: string[]; data: string; logIndex: string }[];
}

const ETH = 10n ** 18n;

export async function generateTraffic(url: string, options: TrafficOptions): Promise<Traffic> {
  const started = performance.now();
  const random = seededRandom(options.seed ?? 20261125);
  const between = (lo: bigint, hi: bigint) => lo + BigInt(Math.floor(random() * Number(hi - lo)));
  const [deployer, hot1, hot2, cold, spender, user1, user2, user3] = devAccountKeys().map((k) => new RawSigner(k)) as [
    RawSigner,
    RawSigner,
    RawSigner,
    RawSigner,
    RawSigner,
    RawSigner,
    RawSigner,
    RawSigner,
  ];
  const hot = new Set([hot1.address, hot2.address]);
  const customers = Array.from({ length: 400 }, (_, i) => `0x${keccak256(toUtf8Bytes(`customer-${i}`)).slice(26)}`);
  const customer = () => customers[Math.floor(random() * customers.length)]!;

  await rpc(url, 'evm_setAutomine', [false]);
  if (options.blockSeconds) await rpc(url, 'anvil_setBlockTimestampInterval', [options.blockSeconds]);
  for (const s of [deployer, hot1, hot2, cold, spender, user1, user2, user3]) {
    const n = Number(await rpc<string>(url, 'eth_getTransactionCount', [s.address, 'pending']));
    if (n !== 0) throw new Error(`account ${s.address} has sent transactions already: the traffic needs a fresh chain`);
  }

  const sent: Sent[] = [];
  let block = Number(await rpc<string>(url, 'eth_blockNumber'));
  const mineWith = async (txs: Sent[]) => {
    block++;
    for (const s of txs) s.block = block;
    await options.beforeSend?.(txs.map((s) => s.tx));
    await rpcBatch(url, sendRaw(txs.map((s) => s.tx)));
    await rpc(url, 'evm_mine');
    sent.push(...txs);
  };
  const plain = (tx: SignedTx): Sent => ({ tx, block: 0, expectStatus: 1, outflows: [] });

  // Setup: contracts, balances, allowances. Nothing here moves value out of a hot wallet.
  const deployData = (artifact: typeof TestToken, args: unknown[]) =>
    new ContractFactory(artifact.abi, artifact.bytecode).getDeployTransaction(...args).then((t) => t.data);
  const deploys = [
    await deployData(TestToken, ['Tether USD', 'USDT', 6]),
    await deployData(TestToken, ['Wrapped BTC', 'WBTC', 8]),
    await deployData(TestToken, ['Odd Token', 'ODD', 18]),
    await deployData(Disperse, []),
    await deployData(RevertOnReceive, []),
  ];
  const [usdt, wbtc, odd, disperser, reverter] = deploys.map((_, i) =>
    getCreateAddress({ from: deployer.address, nonce: deployer.nextNonce + i }).toLowerCase(),
  ) as [string, string, string, string, string];
  await mineWith(deploys.map((data) => plain(deployer.sign({ to: null, data, gas: 3_000_000 }))));
  const mint = (token: string, to: string, amount: bigint) =>
    plain(deployer.sign({ to: token, data: erc20.encodeFunctionData('mint', [to, amount]), gas: 120_000 }));
  const approve = (s: RawSigner, token: string, spenderAddress: string, amount: bigint) =>
    plain(s.sign({ to: token, data: erc20.encodeFunctionData('approve', [spenderAddress, amount]), gas: 80_000 }));
  await mineWith([
    mint(usdt, hot1.address, 10n ** 15n),
    mint(usdt, hot2.address, 10n ** 15n),
    mint(usdt, user2.address, 10n ** 15n),
    mint(wbtc, hot2.address, 10n ** 15n),
    mint(wbtc, user1.address, 10n ** 15n),
    mint(odd, hot1.address, 10n ** 30n),
    approve(hot1, usdt, disperser, 2n ** 256n - 1n),
    // A finite allowance: each transferFrom also updates it, as for a real market maker's allowance.
    approve(hot2, usdt, spender.address, 10n ** 14n),
  ]);

  const stats: TrafficStats = {
    blocks: options.blocks,
    transactions: 0,
    outflows: 0,
    nativeOutflows: 0,
    tokenOutflows: 0,
    batchPayoutTransactions: 0,
    batchPayoutTransfers: 0,
    thirdPartyTransferFroms: 0,
    revertedHotSends: 0,
    sweepsToColdWallet: 0,
    unknownTokenTransfers: 0,
    noiseTransactions: 0,
  };
  const native = (s: RawSigner, to: string, value: bigint): Sent => {
    const isHot = hot.has(s.address);
    if (!isHot) stats.noiseTransactions++;
    return {
      tx: s.sign({ to, value, gas: 21_000 }),
      block: 0,
      expectStatus: 1,
      outflows: isHot ? [{ contract: null, from: s.address, to, amount: value }] : [],
    };
  };
  const token = (s: RawSigner, contract: string, to: string, amount: bigint): Sent => {
    const isHot = hot.has(s.address);
    if (!isHot) stats.noiseTransactions++;
    return {
      tx: s.sign({ to: contract, data: erc20.encodeFunctionData('transfer', [to, amount]), gas: 90_000 }),
      block: 0,
      expectStatus: 1,
      outflows: isHot ? [{ contract, from: s.address, to, amount }] : [],
    };
  };

  const firstBlock = block + 1;
  for (let i = 0; i < options.blocks; i++) {
    const txs: Sent[] = [
      native(hot1, customer(), between(ETH / 1000n, ETH / 10n)),
      token(hot1, usdt, customer(), between(10_000_000n, 5_000_000_000n)),
      token(hot2, wbtc, customer(), between(100_000n, 20_000_000n)),
      native(user1, user2.address, ETH / 100n),
      token(user2, usdt, hot1.address, between(1_000_000n, 900_000_000n)),
    ];
    if (i % 3 === 1) txs.push(native(user3, hot2.address, between(ETH / 100n, ETH)));
    if (i % 4 === 2) txs.push(token(user1, wbtc, user3.address, 50_000n));
    if (i % 15 === 2) txs.push(native(hot2, customer(), between(ETH / 1000n, ETH)));
    if (i % 10 === 0) {
      const recipients = Array.from({ length: 5 }, (_, k) => customers[(i * 5 + k) % customers.length]!);
      const values = recipients.map(() => between(1_000_000n, 2_000_000_000n));
      txs.push({
        tx: hot1.sign({
          to: disperser,
          data: disperse.encodeFunctionData('disperseToken', [usdt, recipients, values]),
          gas: 400_000,
        }),
        block: 0,
        expectStatus: 1,
        outflows: recipients.map((to, k) => ({ contract: usdt, from: hot1.address, to, amount: values[k]! })),
      });
      stats.batchPayoutTransactions++;
      stats.batchPayoutTransfers += recipients.length;
    }
    if (i % 7 === 3) {
      const to = customer();
      const amount = between(1_000_000n, 3_000_000_000n);
      txs.push({
        tx: spender.sign({
          to: usdt,
          data: erc20.encodeFunctionData('transferFrom', [hot2.address, to, amount]),
          gas: 120_000,
        }),
        block: 0,
        expectStatus: 1,
        outflows: [{ contract: usdt, from: hot2.address, to, amount }],
      });
      stats.thirdPartyTransferFroms++;
    }
    if (i % 25 === 5) {
      txs.push({ tx: hot1.sign({ to: reverter, value: ETH, gas: 60_000 }), block: 0, expectStatus: 0, outflows: [] });
      stats.revertedHotSends++;
    }
    if (i % 20 === 9) {
      txs.push(native(hot2, cold.address, 5n * ETH));
      stats.sweepsToColdWallet++;
    }
    if (i % 50 === 17) {
      txs.push(token(hot1, odd, customer(), between(ETH, 100n * ETH)));
      stats.unknownTokenTransfers++;
    }
    await mineWith(txs);
    if ((i + 1) % 250 === 0 || i + 1 === options.blocks) options.onProgress?.(i + 1, options.blocks);
  }
  const lastBlock = block;
  if (Number(await rpc<string>(url, 'eth_blockNumber')) !== lastBlock)
    throw new Error('anvil mined blocks the bench did not ask for');

  const expected = await indexOutflows(url, options.chain, sent, firstBlock, lastBlock);
  stats.transactions = sent.filter((s) => s.block >= firstBlock).length;
  stats.outflows = expected.length;
  stats.nativeOutflows = expected.filter((e) => e.contract === null).length;
  stats.tokenOutflows = expected.length - stats.nativeOutflows;
  await rpc(url, 'evm_setAutomine', [true]);
  return {
    url,
    chain: options.chain,
    hotWallets: [hot1.address, hot2.address],
    cold: cold.address,
    tokens: { usdt, wbtc, odd },
    firstBlock,
    lastBlock,
    expected,
    stats,
    seconds: (performance.now() - started) / 1000,
  };
}

/**
 * Turns what was sent into outflows keyed as the breaker keys them. A token outflow's log index is
 * only known once mined, so each intended transfer is matched to its Transfer log in its own receipt
 * (token, from, to, amount). Fails if any transaction is missing, landed in another block, or ended with
 * another status than intended — the ground truth must be exactly what the chain holds.
 */
async function indexOutflows(
  url: string,
  chain: string,
  sent: Sent[],
  firstBlock: number,
  lastBlock: number,
): Promise<ExpectedOutflow[]> {
  const receipts = new Map<string, Receipt>();
  const numbers = Array.from({ length: lastBlock + 1 }, (_, n) => n);
  for (let k = 0; k < numbers.length; k += 50) {
    const lists = await rpcBatch<Receipt[]>(
      url,
      numbers.slice(k, k + 50).map((n) => ({ method: 'eth_getBlockReceipts', params: [`0x${n.toString(16)}`] })),
    );
    for (const r of lists.flat()) receipts.set(r.transactionHash.toLowerCase(), r);
  }
  const expected: ExpectedOutflow[] = [];
  for (const s of sent) {
    const receipt = receipts.get(s.tx.hash);
    if (!receipt) throw new Error(`transaction ${s.tx.hash} (nonce ${s.tx.nonce} of ${s.tx.from}) was never mined`);
    if (Number(receipt.blockNumber) !== s.block) {
      throw new Error(`transaction ${s.tx.hash} landed in block ${Number(receipt.blockNumber)}, not ${s.block}`);
    }
    if (Number(receipt.status) !== s.expectStatus) {
      throw new Error(`transaction ${s.tx.hash} ended with status ${receipt.status}, expected ${s.expectStatus}`);
    }
    if (s.block < firstBlock && s.outflows.length > 0)
      throw new Error('a setup transaction moved value out of a hot wallet');
    const used = new Set<string>();
    for (const o of s.outflows) {
      let index: number | null = null;
      if (o.contract !== null) {
        const log = receipt.logs.find(
          (l) =>
            !used.has(l.logIndex) &&
            l.address.toLowerCase() === o.contract &&
            l.topics[0] === TRANSFER_TOPIC &&
            l.topics[1]?.toLowerCase() === `0x${'0'.repeat(24)}${o.from.slice(2)}` &&
            l.topics[2]?.toLowerCase() === `0x${'0'.repeat(24)}${o.to.slice(2)}` &&
            BigInt(l.data) === o.amount,
        );
        if (!log) throw new Error(`transaction ${s.tx.hash}: no Transfer log for ${o.amount} ${o.contract} to ${o.to}`);
        used.add(log.logIndex);
        index = Number(log.logIndex);
      }
      expected.push({
        id: `${chain}:${s.tx.hash}:${index ?? 'native'}`,
        block: s.block,
        txHash: s.tx.hash,
        index,
        ...o,
      });
    }
  }
  return expected;
}
