import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { compileConfig, parseConfigText } from '../../../functions/adapters/config/config-file.ts';
import { pollerGroupOf } from '../../../functions/core/config/poller-groups.ts';
import type { BreakerConfig } from '../../../functions/core/config/types.ts';
import { summariseConfig } from '../../../functions/core/config-record.ts';
import { ConfigError, isBreakerError } from '../../../functions/core/errors.ts';
import { ADDR, configInput, usd } from '../../support/fixtures.ts';

const EXAMPLE_PATH = new URL('../../fixtures/config/limits-only.yaml', import.meta.url);

// biome-ignore lint/suspicious/noExplicitAny: the bad-config table edits arbitrary paths of a YAML document
type Doc = any;

function example(): Doc {
  return parse(readFileSync(EXAMPLE_PATH, 'utf8'));
}

function compileError(doc: Doc): ConfigError {
  try {
    compileConfig(doc, 'example.yaml');
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError, but the config compiled');
}

describe('compileConfig on the limits-only example (test/fixtures/config/limits-only.yaml)', () => {
  const config: BreakerConfig = compileConfig(example(), 'example.yaml');
  const rule = (id: string) => {
    const r = config.rules.find((x) => x.id === id);
    if (!r) throw new Error(`no rule ${id}`);
    return r;
  };

  it('yields one rule per configured limit, with stable ids', () => {
    expect(config.rules.map((r) => r.id)).toEqual([
      'global-usd-10m',
      'global-usd-1h',
      'global-usd-24h',
      'global-count-10m',
      'global-count-1h',
      'global-single-tx-usd',
      'chain-ethereum-usd-10m',
      'chain-ethereum-usd-1h',
      'asset-ethereum-ETH-units-1h',
      'asset-ethereum-ETH-single-tx',
      'asset-ethereum-USDT-units-1h',
      'asset-ethereum-USDC-units-1h',
      'chain-bsc-usd-10m',
      'chain-bsc-usd-1h',
      'asset-bsc-BNB-units-1h',
      'chain-bitcoin-usd-10m',
      'chain-bitcoin-usd-1h',
      'chain-bitcoin-usd-24h',
      'asset-bitcoin-BTC-units-1h',
      'asset-bitcoin-BTC-single-tx',
    ]);
  });

  it.each([
    ['global-usd-10m', 600, usd(1_500_000), usd(1_200_000), 'global'],
    ['global-usd-24h', 86_400, usd(25_000_000), usd(20_000_000), 'global'],
    ['global-count-1h', 3600, 600n, 480n, 'global'],
    ['global-single-tx-usd', 0, usd(1_000_000), usd(800_000), 'global'],
    ['chain-ethereum-usd-1h', 3600, usd(2_500_000), usd(2_000_000), 'chain:ethereum'],
    ['asset-ethereum-ETH-units-1h', 3600, 600n * 10n ** 18n, 480n * 10n ** 18n, 'chain:ethereum'],
    ['asset-ethereum-ETH-single-tx', 0, 250n * 10n ** 18n, 200n * 10n ** 18n, 'chain:ethereum'],
    ['asset-ethereum-USDT-units-1h', 3600, 1_500_000n * 10n ** 6n, 1_200_000n * 10n ** 6n, 'chain:ethereum'],
    // BSC's USDT has 18 decimals, not 6: the limit is in its own base units
    ['chain-bsc-usd-10m', 600, usd(400_000), usd(320_000), 'chain:bsc'],
    ['asset-bsc-BNB-units-1h', 3600, 800n * 10n ** 18n, 640n * 10n ** 18n, 'chain:bsc'],
  ])('%s: window %is, limit %s, warns above %s, halts %s', (id, window, limit, warnAt, halt) => {
    const r = rule(id);
    expect(r.windowSeconds).toBe(window);
    expect(r.limit).toBe(limit);
    expect(r.warnAt).toBe(warnAt);
    expect(r.halt.kind === 'global' ? 'global' : `chain:${r.halt.chain}`).toBe(halt);
  });

  it('reads the longest window so evaluation loads 24h of history', () => {
    expect(config.maxWindowSeconds).toBe(86_400);
  });

  it('normalises addresses, prices and the unknown-asset value', () => {
    const eth = config.chains.get('ethereum');
    expect(eth?.hotWallets).toEqual([
      '0x28c6c06298d514db089934071355e5743bf21d60',
      '0x21a31ee1afc51d94c2efccaa2092ad1028285549',
    ]);
    expect(eth?.native.priceMicros).toBe(usd(3300));
    expect(eth?.tokens.get('0xdac17f958d2ee523a2206206994597c13d831ec7')?.symbol).toBe('USDT');
    expect(eth?.explorer).toBe('https://etherscan.io');
    expect(config.unknownAssetUsdMicros).toBe(usd(10_000));
  });

  it("treats every chain's hot wallets and the cold wallet as own addresses on every chain", () => {
    const bsc = config.chains.get('bsc');
    expect(bsc?.ownAddresses.has('0x28c6c06298d514db089934071355e5743bf21d60')).toBe(true); // Ethereum hot wallet
    expect(bsc?.ownAddresses.has('0xf977814e90da44bfa03b6295a0616a897441acec')).toBe(true); // cold wallet
  });

  it('applies defaults the example leaves out', () => {
    const eth = config.chains.get('ethereum');
    expect(eth?.startBlock).toBe('latest');
    expect(eth?.pollIntervalSeconds).toBe(12);
    expect(eth?.raw.kind === 'evm' && eth.raw.nativeSource).toBe('blocks');
    expect(config.pages.subscriptions).toHaveLength(2);
  });
});

describe('compileConfig rejects a bad config with an error naming the path and the problem', () => {
  const cases: [string, (d: Doc) => void, string | RegExp][] = [
    [
      'a non-http RPC URL',
      (d) => (d.chains.ethereum.rpc[0] = 'wss://eth.example'),
      'chains.ethereum.rpc[0]: not an http(s) URL',
    ],
    [
      'a malformed hot wallet address',
      (d) => (d.chains.ethereum.hotWallets[1] = '0x28C6c06298d514Db0899'),
      'chains.ethereum.hotWallets[1]: not a 20-byte 0x address',
    ],
    [
      'a bad own address',
      (d) => (d.chains.bsc.ownAddresses[0] = 'cold-wallet'),
      'chains.bsc.ownAddresses[0]: not a 20-byte 0x address',
    ],
    [
      'an unknown nativeSource',
      (d) => (d.chains.ethereum.nativeSource = 'receipts'),
      'chains.ethereum.nativeSource: expected "blocks" or "traces"',
    ],
    [
      'nativeSource on a bitcoin chain',
      (d) => (d.chains.bitcoin.nativeSource = 'traces'),
      /^chains\.bitcoin: .*nativeSource/,
    ],
    [
      'an empty hot wallet list',
      (d) => (d.chains.ethereum.hotWallets = []),
      'chains.ethereum.hotWallets: at least one hot wallet is required',
    ],
    ['no hot wallets key at all', (d) => delete d.chains.bsc.hotWallets, /^chains\.bsc\.hotWallets: .*expected array/],
    [
      'limits for a chain that is not configured',
      (d) => (d.limits.chains.solana = { usd: { '1h': 100 } }),
      'limits.chains.solana: no chain "solana" under chains (known: ethereum, bsc, bitcoin)',
    ],
    [
      'limits for an asset the chain does not list',
      (d) => (d.limits.chains.ethereum.assets.DAI = { units: { '1h': '100' } }),
      'limits.chains.ethereum.assets.DAI: no asset "DAI" on chain ethereum (known: ETH, USDT, USDC)',
    ],
    [
      'a window written out in words',
      (d) => (d.limits.global.usd['10 minutes'] = 1_000_000),
      /^limits\.global\.usd\.10 minutes: not a duration like 30s, 10m, 1h or 7d/,
    ],
    [
      'a window key on a chain limit',
      (d) => (d.limits.chains.bsc.usd = { '1 hour': 5 }),
      /^limits\.chains\.bsc\.usd\.1 hour: not a duration/,
    ],
    [
      'a single number where a window map belongs',
      (d) => (d.limits.global.usd = 1_500_000),
      'limits.global.usd: expected a map of window → limit, e.g. { 1h: 1000000 }',
    ],
    ['a warn ratio above 1', (d) => (d.limits.warnRatio = 1.5), /^limits\.warnRatio: .*<1/],
    [
      'two tokens with one symbol',
      (d) => (d.chains.ethereum.tokens[1].symbol = 'USDT'),
      'chains.ethereum.tokens[1].symbol: "USDT" is used twice on this chain',
    ],
    [
      'a token with the native coin symbol',
      (d) => (d.chains.bsc.tokens[0].symbol = 'BNB'),
      'chains.bsc.tokens[0].symbol: "BNB" is used twice on this chain',
    ],
    [
      'the same token contract twice',
      (d) => (d.chains.ethereum.tokens[1].contract = d.chains.ethereum.tokens[0].contract.toLowerCase()),
      'chains.ethereum.tokens[1].contract: listed twice',
    ],
    [
      'an own address that is a hot wallet of the chain (any case)',
      (d) => (d.chains.ethereum.ownAddresses = ['0x28c6c06298d514db089934071355e5743bf21d60']),
      'chains.ethereum.ownAddresses[0]: 0x28c6c06298d514db089934071355e5743bf21d60 is already a hot wallet of this chain',
    ],
    ['an unknown top-level field', (d) => (d.alerts = { email: 'x' }), /^\(root\): .*"alerts"/],
    ['an unknown field in a chain', (d) => (d.chains.bsc.hotwallet = []), /^chains\.bsc: .*"hotwallet"/],
    ['a misspelt limit', (d) => (d.limits.global.singleTxUSD = 5), /^limits\.global: .*"singleTxUSD"/],
    ['no limits at all', (d) => (d.limits = {}), 'limits: no limits configured — the breaker would never trip'],
    [
      'only empty limit maps',
      (d) => (d.limits = { global: { usd: {} }, chains: { ethereum: { assets: {} } } }),
      'limits: no limits configured — the breaker would never trip',
    ],
    ['no limits section', (d) => delete d.limits, /^limits: .*expected object/],
    [
      'a token without usdPrice',
      (d) => delete d.chains.bsc.tokens[1].usdPrice,
      'chains.bsc.tokens[1].usdPrice: a static USD price is required (the fallback when no feed answers)',
    ],
    [
      'a native coin without usdPrice',
      (d) => delete d.chains.ethereum.native.usdPrice,
      'chains.ethereum.native.usdPrice: a static USD price is required (the fallback when no feed answers)',
    ],
    [
      // micro-USD per whole unit cannot hold it: every transfer would be valued at $0
      'a static price below the precision of prices',
      (d) => (d.chains.bsc.tokens[0].usdPrice = 0.0000004),
      /^chains\.bsc\.tokens\[0\]\.usdPrice: .*below \$0\.000001 per whole unit.*\$0/,
    ],
    [
      'a unit limit finer than the asset',
      (d) => (d.limits.chains.ethereum.assets.USDT.units['1h'] = '0.0000001'),
      'limits.chains.ethereum.assets.USDT.units.1h: "0.0000001" has more than 6 decimal places',
    ],
    [
      'a negative single-transaction limit',
      (d) => (d.limits.chains.ethereum.assets.ETH.singleTx = '-5'),
      /^limits\.chains\.ethereum\.assets\.ETH\.singleTx: not a non-negative decimal amount/,
    ],
    ['a zero USD limit', (d) => (d.limits.global.usd['1h'] = 0), 'limits.global.usd.1h: must be > 0'],
    // The store expires outflows 35 days after their time: a rule that looks back further would sum a
    // history the table has already deleted, and read lower totals than really left.
    [
      'a window longer than the outflow history the store keeps',
      (d) => (d.limits.global.usd['31d'] = 90_000_000),
      'rule global-usd-31d: looks back 31d, but outflows are kept 35 days and a rule may look back at most 30d',
    ],
    [
      'a wallet profile whose baseline reaches past the kept history',
      (d) => (d.limits.patterns = { walletProfile: { tripFactor: 3, minUsd: 100_000, baseline: '30d' } }),
      /^rule [\w-]+: looks back 721h, but outflows are kept 35 days and a rule may look back at most 30d$/,
    ],
    // Found by the config fuzz: 1.8e302 × 10^6 ppm is Infinity, and BigInt(Infinity) threw a RangeError.
    [
      'a wallet profile trip factor too large to hold in parts per million',
      (d) => (d.limits.patterns = { walletProfile: { tripFactor: 1.8e302, minUsd: 100_000, baseline: '7d' } }),
      /^limits\.patterns\.walletProfile\.tripFactor: must be ≤ 1000000/,
    ],
    [
      'a poller group naming a chain that is not configured',
      (d) => (d.pollerGroups = { evm: ['ethereum', 'solana'] }),
      'pollerGroups.evm[1]: no chain "solana" under chains (known: ethereum, bsc, bitcoin)',
    ],
    [
      'a chain in two poller groups',
      (d) => (d.pollerGroups = { evm: ['ethereum', 'bsc'], eth: ['ethereum'] }),
      'pollerGroups.eth[0]: "ethereum" is already polled by group "evm" (a chain has one poller)',
    ],
    [
      'an empty poller group',
      (d) => (d.pollerGroups = { idle: [] }),
      'pollerGroups.idle: a group polls at least one chain',
    ],
    [
      'a poller group named after a chain it does not poll alone',
      (d) => (d.pollerGroups = { bsc: ['ethereum', 'bsc'] }),
      'pollerGroups.bsc: a group named after chain "bsc" may poll only that chain (rename the group)',
    ],
    [
      'a poller group name with capitals',
      (d) => (d.pollerGroups = { EVM: ['ethereum'] }),
      /^pollerGroups\.EVM: group names are lower-case/,
    ],
  ];

  it.each(cases)('%s', (_name, mutate, expected) => {
    const doc = example();
    mutate(doc);
    const error = compileError(doc);
    expect(isBreakerError(error, 'CONFIG_INVALID')).toBe(true);
    if (typeof expected === 'string') expect(error.issues).toContain(expected);
    else expect(error.issues.some((i) => expected.test(i))).toBe(true);
    // the thrown message (what a CLI or `cdk synth` prints) carries the source name and every issue
    expect(error.message).toContain('example.yaml: invalid config');
    for (const issue of error.issues) expect(error.message).toContain(issue);
  });

  it('refuses a key named __proto__ instead of dropping it (security review §6)', () => {
    // A map keyed by chain id: a strict object would already name the key as unknown.
    const text = readFileSync(EXAMPLE_PATH, 'utf8').replace(
      /^ {2}chains:\n {4}ethereum:\n/m,
      '  chains:\n    __proto__: { usd: { 1h: 1 } }\n    ethereum:\n',
    );
    expect(text).toContain('__proto__');
    let error: unknown;
    try {
      parseConfigText(text, 'example.yaml');
    } catch (e) {
      error = e;
    }
    expect(isBreakerError(error, 'CONFIG_INVALID')).toBe(true);
    expect((error as ConfigError).issues).toEqual([
      'limits.chains.__proto__: a key may not be named __proto__ (it would be dropped without a word)',
    ]);
  });

  it('reports every problem at once, not just the first', () => {
    const doc = example();
    doc.chains.ethereum.rpc[0] = 'ftp://x';
    doc.limits.warnRatio = 2;
    doc.limits.chains.ethereum.assets.DAI = { units: { '1h': '1' } };
    const error = compileError(doc);
    // schema issues are reported together; cross-reference checks run once the schema passes
    expect(error.issues).toHaveLength(2);
    expect(error.issues.join('\n')).toMatch(/chains\.ethereum\.rpc\[0\][\s\S]*limits\.warnRatio/);
  });

  it('accepts the fixture config (sanity for the other core tests)', () => {
    expect(() => compileConfig(configInput(), 'fixture')).not.toThrow();
    expect(compileConfig(configInput(), 'fixture').chains.get('ethereum')?.hotWallets).toContain(
      ADDR.ethHot2.toLowerCase(),
    );
  });
});

describe('pollerGroups: which chains one poller polls together', () => {
  it('without the key, every chain has a poller of its own named after it, in chain order', () => {
    const config = compileConfig(example(), 'example.yaml');
    expect(config.pollerGroups).toEqual([
      { id: 'ethereum', chains: ['ethereum'] },
      { id: 'bsc', chains: ['bsc'] },
      { id: 'bitcoin', chains: ['bitcoin'] },
    ]);
  });

  it('covers every chain exactly once: configured groups in config order, then the chains in no group', () => {
    const doc = example();
    doc.pollerGroups = { evm: ['bsc', 'ethereum'] };
    const config = compileConfig(doc, 'example.yaml');
    expect(config.pollerGroups).toEqual([
      { id: 'evm', chains: ['bsc', 'ethereum'] },
      { id: 'bitcoin', chains: ['bitcoin'] },
    ]);
    expect(pollerGroupOf(config, 'ethereum').id).toBe('evm');
    expect(pollerGroupOf(config, 'bitcoin')).toEqual({ id: 'bitcoin', chains: ['bitcoin'] });
    expect(() => pollerGroupOf(config, 'solana')).toThrow(/no poller polls chain "solana"/);
  });

  it('accepts a group named after its only chain (the same poller as none)', () => {
    const doc = example();
    doc.pollerGroups = { bitcoin: ['bitcoin'] };
    expect(compileConfig(doc, 'example.yaml').pollerGroups.map((g) => g.id)).toEqual(['bitcoin', 'ethereum', 'bsc']);
  });

  it('is not part of the strictness summary: regrouping changes who polls, not what trips', () => {
    const doc = example();
    doc.pollerGroups = { all: ['ethereum', 'bsc', 'bitcoin'] };
    expect(summariseConfig(compileConfig(doc, 'example.yaml'))).toEqual(
      summariseConfig(compileConfig(example(), 'example.yaml')),
    );
  });
});
