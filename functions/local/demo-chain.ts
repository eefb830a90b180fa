import { randomBytes } from 'node:crypto';
import { Contract, ContractFactory, getAddress, JsonRpcProvider, NonceManager, parseUnits, Wallet } from 'ethers';
import { formatUnits, formatUsd, valueInMicros } from '../core/amounts.ts';
import type { ChainConfig } from '../core/config/types.ts';
import { type BitcoinDevnet, devnetWallet, type Payment, type ScriptType, type Utxo } from './bitcoin-devnet.ts';
import { TestToken } from './contracts/artifacts.ts';
import type { CustomerWithdrawal } from './signing-service.ts';

/** Anvil's default accounts (public test keys from its default mnemonic; never use them for real funds). */
export const ANVIL_KEYS = [
  '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80',
  '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
  '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a',
  '0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6',
] as const;

/**
 * The demo's side of the chain: deploys the tokens config/demo.yaml expects, then plays customer
 * withdrawals, a treasury sweep and a drain from the hot wallet. One nonce-managed signer for
 * the hot key, because the "signing service" and the "attacker" use the same stolen key.
 */
export class DemoChain {
  private constructor(
    private readonly hot: NonceManager,
    private readonly chain: ChainConfig,
    readonly usdt: string,
    readonly usdc: string,
    readonly unknownToken: string,
    readonly cold: string,
  ) {}

  static async start(url: string, chain: ChainConfig): Promise<DemoChain> {
    const provider = new JsonRpcProvider(url, undefined, { staticNetwork: true, pollingInterval: 250 });
    const deployer = new NonceManager(new Wallet(ANVIL_KEYS[0], provider));
    const hotWallet = new Wallet(ANVIL_KEYS[1], provider);
    const factory = new ContractFactory(TestToken.abi, TestToken.bytecode, deployer);
    // Deploy all three before minting: the demo config expects the deployer's nonces 0, 1, 2.
    const specs = [
      ['Tether USD (demo)', 'USDT', 6],
      ['USD Coin (demo)', 'USDC', 6],
      ['Unlisted Token', 'UNL', 18],
    ] as const;
    const tokens: Contract[] = [];
    for (const [name, symbol, decimals] of specs) {
      const token = (await factory.deploy(name, symbol, decimals)) as Contract;
      await token.waitForDeployment();
      tokens.push(token);
    }
    const deployed: string[] = [];
    for (const [i, token] of tokens.entries()) {
      const decimals = (specs[i] as (typeof specs)[number])[2];
      await (await token.getFunction('mint')(hotWallet.address, parseUnits('10000000', decimals))).wait();
      deployed.push(await token.getAddress());
    }
    const [usdt, usdc, unknownToken] = deployed as [string, string, string];
    for (const [symbol, address] of [
      ['USDT', usdt],
      ['USDC', usdc],
    ] as const) {
      if (!chain.tokens.has(address.toLowerCase())) {
        throw new Error(
          `demo: ${symbol} deployed at ${address}, but the demo config lists other token addresses (was anvil fresh?)`,
        );
      }
    }
    const cold = chain.raw.ownAddresses[0];
    if (!cold) throw new Error('demo: the config needs a cold wallet under ownAddresses');
    if (hotWallet.address.toLowerCase() !== chain.hotWallets[0])
      throw new Error('demo: hot wallet must be anvil account 1');
    return new DemoChain(new NonceManager(hotWallet), chain, usdt, usdc, unknownToken, getAddress(cold));
  }

  /** The hot key's signer, for the reference signing service (functions/local/signing-service.ts). */
  get hotSigner(): NonceManager {
    return this.hot;
  }

  /** A customer withdrawal request for the signing service: $50–$3,000 in ETH or USDT to a fresh address. */
  customerWithdrawalRequest(withdrawalId: string): { request: CustomerWithdrawal; text: string } {
    const to = Wallet.createRandom().address;
    const usd = 50 + Math.floor(Math.random() * 2950);
    if (Math.random() < 0.5) {
      const eth = (usd / 3300).toFixed(6);
      const request = { withdrawalId, asset: 'ETH', destination: to, amount: parseUnits(eth, 18) };
      return { request, text: `${eth} ETH ($${usd}) → ${to.slice(0, 10)}…` };
    }
    const request = { withdrawalId, asset: 'USDT', destination: to, amount: parseUnits(String(usd), 6) };
    return { request, text: `${usd} USDT → ${to.slice(0, 10)}…` };
  }

  async sweepToCold(): Promise<string> {
    await (await this.hot.sendTransaction({ to: this.cold, value: parseUnits('500', 18) })).wait();
    return `swept 500 ETH (${formatUsd(valueInMicros(parseUnits('500', 18), 18, this.chain.native.priceMicros))}) to the cold wallet — own address, not counted`;
  }

  /** The attacker's transfer of a listed or unlisted token, by symbol. */
  async stealToken(symbol: 'USDT' | 'USDC' | 'UNL', amount: string, attacker: string): Promise<DrainStep> {
    const address = symbol === 'USDT' ? this.usdt : symbol === 'USDC' ? this.usdc : this.unknownToken;
    const decimals = symbol === 'UNL' ? 18 : 6;
    await this.token(address)
      .transfer(attacker, parseUnits(amount, decimals))
      .then((tx: { wait(): Promise<unknown> }) => tx.wait());
    const known = this.chain.tokens.get(address.toLowerCase());
    const usdMicros = known ? valueInMicros(parseUnits(amount, decimals), decimals, known.priceMicros) : 0n;
    return { text: `${amount} ${symbol === 'UNL' ? 'UNL (unlisted)' : symbol} → ${attacker.slice(0, 10)}…`, usdMicros };
  }

  async stealEth(amount: string, attacker: string): Promise<DrainStep> {
    await (await this.hot.sendTransaction({ to: attacker, value: parseUnits(amount, 18) })).wait();
    return {
      text: `${amount} ETH → ${attacker.slice(0, 10)}…`,
      usdMicros: valueInMicros(parseUnits(amount, 18), 18, this.chain.native.priceMicros),
    };
  }

  private token(address: string) {
    return new Contract(address, TestToken.abi, this.hot) as Contract & {
      transfer(to: string, amount: bigint): Promise<{ wait(): Promise<unknown> }>;
    };
  }
}

export interface DrainStep {
  text: string;
  /** What the step took, at the config's prices (unlisted tokens at 0). */
  usdMicros: bigint;
}

/**
 * The drain with a stolen hot key: stablecoins and bitcoin first, then an unlisted token, then ETH
 * and more of everything, each transfer below the single-transaction limit. Run until the breaker
 * trips. Ordered so that the EVM transfers alone stay under the 10-minute global USD limit until
 * well after the first bitcoin outflow is confirmed: the trip counts BTC with everything else.
 */
export function drainPlan(evm: DemoChain, btc: DemoBitcoin): (() => Promise<DrainStep>)[] {
  const attacker = Wallet.createRandom().address;
  const btcAttacker = devnetWallet(`attacker ${randomBytes(8).toString('hex')}`, 'p2wpkh').address;
  return [
    () => evm.stealToken('USDT', '95000', attacker),
    async () => btc.steal('0.6', btcAttacker),
    () => evm.stealToken('USDC', '50000', attacker),
    () => evm.stealToken('UNL', '1000000', attacker),
    () => evm.stealEth('15', attacker),
    async () => btc.steal('0.9', btcAttacker),
    () => evm.stealToken('USDT', '98000', attacker),
    () => evm.stealEth('40', attacker),
    async () => btc.steal('1.2', btcAttacker),
    () => evm.stealToken('USDC', '97000', attacker),
  ];
}

// ---------------------------------------------------------------- Bitcoin

/** The demo's Bitcoin keys: sha256 of these public seeds, so never use them for real funds. */
export const DEMO_BTC_WALLETS = {
  hot: devnetWallet('hot-wallet-breaker demo: bitcoin hot wallet', 'p2wpkh'),
  cold: devnetWallet('hot-wallet-breaker demo: bitcoin cold wallet', 'p2tr'),
  miner: devnetWallet('hot-wallet-breaker demo: miner', 'p2wpkh'),
} as const;

/** Block rewards (50 BTC each) the devnet pays the hot wallet before the demo starts. */
export const DEMO_BTC_FUNDING_BLOCKS = 4;

const SATS = 100_000_000n;
const SAT_PER_VBYTE = 5n;
const CUSTOMER_TYPES: ScriptType[] = ['p2wpkh', 'p2tr', 'p2pkh', 'p2sh-p2wpkh'];

/**
 * The demo's side of the Bitcoin devnet: the exchange's P2WPKH hot wallet paying customers (one at a
 * time, or several in one batch transaction), sweeping to the cold wallet, and being drained. It
 * keeps its own coins like a wallet does — unconfirmed change is spent at once, as exchanges do —
 * and broadcasts without waiting for a block; the devnet mines every couple of seconds.
 */
export class DemoBitcoin {
  private readonly hot = DEMO_BTC_WALLETS.hot;
  /** Spendable outputs of the hot wallet, its own unconfirmed change included. */
  private utxos: Utxo[];

  private constructor(
    private readonly node: BitcoinDevnet,
    private readonly chain: ChainConfig,
  ) {
    this.utxos = node.utxosOf(this.hot.output);
  }

  static start(node: BitcoinDevnet, chain: ChainConfig): DemoBitcoin {
    const { hot, cold } = DEMO_BTC_WALLETS;
    if (chain.hotWallets[0] !== hot.address) {
      throw new Error(`demo: the ${chain.id} hot wallet must be ${hot.address}, the demo's seeded P2WPKH key`);
    }
    if (!chain.ownAddresses.has(cold.address)) {
      throw new Error(`demo: the ${chain.id} ownAddresses must list the demo's cold wallet ${cold.address}`);
    }
    return new DemoBitcoin(node, chain);
  }

  /** One customer, or (`batch`) three to five customers paid by one transaction: $50–$3,000 each. */
  customerWithdrawal(batch: boolean): string {
    const payees = Array.from({ length: batch ? 3 + Math.floor(Math.random() * 3) : 1 }, () => ({
      to: devnetWallet(
        randomBytes(16).toString('hex'),
        CUSTOMER_TYPES[Math.floor(Math.random() * CUSTOMER_TYPES.length)] as ScriptType,
      ).address,
      value: this.sats(50 + Math.random() * 2950),
    }));
    const txid = this.pay(payees);
    const list = payees.map((p) => `${this.btc(p.value)} → ${short(p.to as string)}`).join(', ');
    return batch
      ? `batch payout, ${payees.length} customers in one transaction ${txid.slice(0, 10)}…: ${list}`
      : `${list} (tx ${txid.slice(0, 10)}…)`;
  }

  sweepToCold(): string {
    const value = 60n * SATS;
    const txid = this.pay([{ to: DEMO_BTC_WALLETS.cold.address, value }]);
    return `swept ${this.btc(value)} (${formatUsd(this.usd(value))}) to the cold wallet in tx ${txid.slice(0, 10)}… — own address, not counted`;
  }

  steal(amount: string, to: string): DrainStep {
    const value = parseUnits(amount, 8);
    this.pay([{ to, value }]);
    return { text: `${this.btc(value)} → ${short(to)}`, usdMicros: this.usd(value) };
  }

  /** Pay `outputs` from the hot wallet, largest coins first, change back to it; returns the txid. */
  private pay(outputs: Payment[]): string {
    const want = outputs.reduce((sum, o) => sum + o.value, 0n);
    const coins = [...this.utxos].sort((a, b) => (b.value > a.value ? 1 : b.value < a.value ? -1 : 0));
    const inputs: Utxo[] = [];
    let have = 0n;
    let fee = 0n;
    for (const coin of coins) {
      inputs.push(coin);
      have += coin.value;
      // P2WPKH inputs ≈ 68 vB, outputs ≤ 43 vB (P2TR), change included.
      fee = (11n + 68n * BigInt(inputs.length) + 43n * BigInt(outputs.length + 1)) * SAT_PER_VBYTE;
      if (have >= want + fee) break;
    }
    if (have < want + fee)
      throw new Error(`demo: the hot wallet holds ${this.btc(have)}, cannot pay ${this.btc(want)}`);
    const change = have - want - fee;
    const tx = this.node.createTx(
      inputs.map((utxo) => ({ utxo, wallet: this.hot })),
      [...outputs, { to: this.hot.address, value: change }],
      { rbf: true },
    );
    const txid = this.node.broadcast(tx);
    const spent = new Set(inputs.map((u) => `${u.txid}:${u.vout}`));
    this.utxos = this.utxos.filter((u) => !spent.has(`${u.txid}:${u.vout}`));
    this.utxos.push({ txid, vout: outputs.length, value: change, script: this.hot.output });
    return txid;
  }

  private sats(usd: number): bigint {
    const price = Number(this.chain.native.priceMicros) / 1e6;
    return BigInt(Math.round((usd / price) * 1e8));
  }

  private usd(sats: bigint): bigint {
    return valueInMicros(sats, 8, this.chain.native.priceMicros);
  }

  private btc(sats: bigint): string {
    return `${formatUnits(sats, 8)} BTC`;
  }
}

function short(address: string): string {
  return `${address.slice(0, 12)}…`;
}
