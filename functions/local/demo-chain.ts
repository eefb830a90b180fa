import { Contract, ContractFactory, getAddress, JsonRpcProvider, NonceManager, parseUnits, Wallet } from 'ethers';
import { formatUsd, valueInMicros } from '../core/amounts.ts';
import type { ChainConfig } from '../core/config/compile.ts';
import { TestToken } from './contracts/artifacts.ts';

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
    private readonly cold: string,
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
    const cold = [...chain.ownAddresses].find((a) => !chain.hotWallets.includes(a));
    if (!cold) throw new Error('demo: the config needs a cold wallet under ownAddresses');
    if (hotWallet.address.toLowerCase() !== chain.hotWallets[0])
      throw new Error('demo: hot wallet must be anvil account 1');
    return new DemoChain(new NonceManager(hotWallet), chain, usdt, usdc, unknownToken, getAddress(cold));
  }

  /** A small withdrawal to a fresh customer address: $50–$3,000 in ETH or USDT. */
  async customerWithdrawal(): Promise<string> {
    const to = Wallet.createRandom().address;
    const usd = 50 + Math.floor(Math.random() * 2950);
    if (Math.random() < 0.5) {
      const eth = (usd / 3300).toFixed(6);
      await (await this.hot.sendTransaction({ to, value: parseUnits(eth, 18) })).wait();
      return `${eth} ETH ($${usd}) → ${to.slice(0, 10)}…`;
    }
    await this.token(this.usdt)
      .transfer(to, parseUnits(String(usd), 6))
      .then((tx: { wait(): Promise<unknown> }) => tx.wait());
    return `${usd} USDT → ${to.slice(0, 10)}…`;
  }

  async sweepToCold(): Promise<string> {
    await (await this.hot.sendTransaction({ to: this.cold, value: parseUnits('500', 18) })).wait();
    return `swept 500 ETH (${formatUsd(valueInMicros(parseUnits('500', 18), 18, this.chain.native.priceMicros))}) to the cold wallet — own address, not counted`;
  }

  /** The attacker's transfers, each below the single-transaction limit; run until the breaker trips. */
  drainPlan(): (() => Promise<{ text: string; usdMicros: bigint }>)[] {
    const attacker = Wallet.createRandom().address;
    const token = (address: string, symbol: string, amount: string, decimals: number) => async () => {
      await this.token(address)
        .transfer(attacker, parseUnits(amount, decimals))
        .then((tx: { wait(): Promise<unknown> }) => tx.wait());
      const known = this.chain.tokens.get(address.toLowerCase());
      const usdMicros = known ? valueInMicros(parseUnits(amount, decimals), decimals, known.priceMicros) : 0n;
      return { text: `${amount} ${symbol} → ${attacker.slice(0, 10)}…`, usdMicros };
    };
    const eth = (amount: string) => async () => {
      await (await this.hot.sendTransaction({ to: attacker, value: parseUnits(amount, 18) })).wait();
      return {
        text: `${amount} ETH → ${attacker.slice(0, 10)}…`,
        usdMicros: valueInMicros(parseUnits(amount, 18), 18, this.chain.native.priceMicros),
      };
    };
    return [
      token(this.usdt, 'USDT', '95000', 6),
      token(this.usdc, 'USDC', '90000', 6),
      token(this.unknownToken, 'UNL (unlisted)', '1000000', 18),
      eth('30'),
      token(this.usdt, 'USDT', '98000', 6),
      token(this.usdc, 'USDC', '97000', 6),
      eth('40'),
      token(this.usdt, 'USDT', '99000', 6),
    ];
  }

  private token(address: string) {
    return new Contract(address, TestToken.abi, this.hot) as Contract & {
      transfer(to: string, amount: bigint): Promise<{ wait(): Promise<unknown> }>;
    };
  }
}
