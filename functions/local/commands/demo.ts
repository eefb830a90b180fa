import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { compileConfig } from '../../adapters/config/config-file.ts';
import { startRuntimeConsole } from '../../console/runtime-console.ts';
import { formatUsd } from '../../core/amounts.ts';
import { createBreakerGuard } from '../../guard/guard.ts';
import { createKillSwitch } from '../../guard/kill-switch.ts';
import { consoleDeps } from '../../runtime/compose.ts';
import { startAnvil } from '../anvil-process.ts';
import { type BitcoinDevnetRun, startBitcoinDevnet } from '../bitcoin-devnet.ts';
import { DEMO_BTC_FUNDING_BLOCKS, DEMO_BTC_WALLETS, DemoBitcoin, DemoChain, drainPlan } from '../demo-chain.ts';
import { outflowSummary } from '../format.ts';
import { localPublisher } from '../publishers.ts';
import { startRuntime } from '../runtime.ts';
import { ReferenceSigningService } from '../signing-service.ts';
import { waitForSignal } from './watch.ts';

export const summary =
  'the local demo (npm start): an EVM chain and a Bitcoin devnet, the breaker, withdrawals, then a drain that trips it';

const DEMO_CONFIG = 'config/demo.yaml';

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      'exit-after-trip': { type: 'boolean' },
      /** Turn on reconciliation (config/demo.yaml): the attacker's first transfer trips the breaker. */
      reconciliation: { type: 'boolean' },
      'normal-seconds': { type: 'string', default: '12' },
      port: { type: 'string' },
    },
  });
  const say = (line: string) => process.stdout.write(`${line}\n`);
  const normalSeconds = Number(values['normal-seconds']);
  // --port 0: any free port for both nodes (tests); otherwise the ports config/demo.yaml names when free.
  const anyPort = values.port === '0';

  say(
    'hot-wallet-breaker demo — everything local: anvil (EVM chain), a Bitcoin regtest stand-in, dynalite (DynamoDB), the real pollers and rules.',
  );
  const anvil = await startAnvil({
    port: values.port !== undefined ? Number(values.port) : await preferredPort(8545),
    blockTime: 1,
    chainId: 31337,
  });
  try {
    const bitcoin = await startBitcoinDevnet({
      port: anyPort ? 0 : await preferredPort(18443),
      blockSeconds: BTC_BLOCK_SECONDS,
      fund: [{ address: DEMO_BTC_WALLETS.hot.address, blocks: DEMO_BTC_FUNDING_BLOCKS }],
      minerAddress: DEMO_BTC_WALLETS.miner.address,
      rpcAuth: BTC_RPC_AUTH,
      onError: (e) => say(`  bitcoin devnet: BLOCK NOT MINED — ${(e as Error).message}`),
    });
    try {
      return await playDemo(
        { anvilUrl: anvil.url, bitcoin, reconciliation: values.reconciliation === true },
        values['exit-after-trip'] === true,
        normalSeconds,
        say,
      );
    } finally {
      await bitcoin.stop();
    }
  } finally {
    await anvil.stop();
  }
}

const BTC_BLOCK_SECONDS = 2;
const BTC_RPC_AUTH = { user: 'demo', password: 'demo' };

interface DemoNodes {
  anvilUrl: string;
  bitcoin: BitcoinDevnetRun;
  reconciliation: boolean;
}

interface DemoConfigFile {
  chains: { devnet: { rpc: string[] }; btcnet: { rpc: string[]; esplora: string[] } };
  reconciliation?: Record<string, unknown>;
}

async function playDemo(
  nodes: DemoNodes,
  exitAfterTrip: boolean,
  normalSeconds: number,
  say: (line: string) => void,
): Promise<number> {
  const { anvilUrl, bitcoin } = nodes;
  const rawConfig = parseYaml(readFileSync(DEMO_CONFIG, 'utf8')) as DemoConfigFile;
  rawConfig.chains.devnet.rpc = [anvilUrl];
  rawConfig.chains.btcnet.rpc = [bitcoin.rpcUrl];
  rawConfig.chains.btcnet.esplora = [bitcoin.esploraUrl];
  if (nodes.reconciliation) rawConfig.reconciliation = { ...rawConfig.reconciliation, enabled: true };
  const config = compileConfig(rawConfig, DEMO_CONFIG);
  const devnet = config.chains.get('devnet');
  const btcnet = config.chains.get('btcnet');
  if (!devnet || !btcnet) throw new Error(`${DEMO_CONFIG} must define the devnet and btcnet chains`);
  say(`  chain: anvil at ${anvilUrl} (1 s blocks); config: ${DEMO_CONFIG}`);
  say(
    `  chain: Bitcoin regtest devnet at ${bitcoin.esploraUrl.replace(/\/api$/, '')} (a block every ${BTC_BLOCK_SECONDS} s) — a stand-in, not bitcoind:`,
  );
  say(
    '         real transactions and blocks built with bitcoinjs-lib, served through exactly the Bitcoin Core JSON-RPC and Esplora calls the breaker reads',
  );

  const chain = await DemoChain.start(anvilUrl, devnet);
  const btc = DemoBitcoin.start(bitcoin.node, btcnet);
  say(`  deployed USDT ${chain.usdt}, USDC ${chain.usdc} and an unlisted token ${chain.unknownToken}`);
  say(`  devnet hot wallet ${devnet.hotWallets[0]}, cold wallet ${chain.cold}`);
  say(
    `  btcnet hot wallet ${DEMO_BTC_WALLETS.hot.address} (P2WPKH, ${DEMO_BTC_FUNDING_BLOCKS * 50} BTC in block rewards), cold wallet ${DEMO_BTC_WALLETS.cold.address} (P2TR)`,
  );
  for (const r of config.rules) say(`  rule ${r.id}`);

  let trippedAtMs: number | undefined;
  const bitcoinSeen = { counted: 0, usdMicros: 0n, own: 0 };
  const runtime = await startRuntime({
    config,
    configPath: DEMO_CONFIG,
    publisher: localPublisher(config),
    onResult: (chainId, r) => {
      if (r.kind !== 'advanced') return;
      for (const o of r.outflows) {
        say(`  seen  ${outflowSummary(o)}`);
        if (chainId !== 'btcnet' || trippedAtMs !== undefined) continue;
        if (o.own) bitcoinSeen.own++;
        else {
          bitcoinSeen.counted++;
          bitcoinSeen.usdMicros += o.usdMicros;
        }
      }
      for (const w of r.warnings) say(`  WARN  ${w}`);
      if (r.trips.length > 0 && trippedAtMs === undefined) trippedAtMs = Date.now();
    },
    onError: (c, e) => say(`  ${c}: POLL FAILED — ${(e as Error).message}`),
  });
  const killSwitch = createKillSwitch(runtime.store);
  const opsConsole = await startRuntimeConsole(consoleDeps(runtime.composed));
  say(`  web console (this run only): ${opsConsole.url}`);
  const started = Date.now();

  // The exchange's signing services ask the breaker before every customer withdrawal, on the
  // withdrawal's chain. Every third withdrawal is in bitcoin, every other one of those a batch payout.
  // On devnet it is the reference signing service: the guard approves each withdrawal and records it
  // (what reconciliation matches on-chain outflows against) before the hot key signs it.
  if (nodes.reconciliation) say('  reconciliation ON: every devnet outflow must match a withdrawal the guard approved');
  const evmSigner = new ReferenceSigningService({
    wallet: chain.hotSigner,
    chain: devnet,
    guard: createBreakerGuard({
      store: runtime.store,
      config,
      logger: { warn() {}, error: (m) => say(`  guard: ${m}`) },
    }),
  });
  let withdrawals = 0;
  let rejected = 0;
  let stopping = false;
  const signer = (async () => {
    while (!stopping) {
      const onBitcoin = withdrawals % 3 === 1;
      if (!onBitcoin) {
        const { request, text } = chain.customerWithdrawalRequest(`demo-w${withdrawals + rejected + 1}`);
        const out = await evmSigner.withdraw(request);
        if (out.status === 'rejected') {
          rejected++;
          if (rejected <= 3 || rejected % 10 === 0)
            say(`  signer: customer withdrawal REJECTED — ${out.error.message}`);
        } else {
          withdrawals++;
          say(`  signer: withdrawal #${withdrawals} ${text} (approved and recorded by the guard)`);
        }
        await sleep(900);
        continue;
      }
      const decision = await killSwitch.isHalted({ chain: 'btcnet' });
      if (decision.halted) {
        rejected++;
        if (rejected <= 3 || rejected % 10 === 0) say(`  signer: customer withdrawal REJECTED — ${decision.reason}`);
      } else {
        const w = btc.customerWithdrawal(withdrawals % 6 === 1);
        withdrawals++;
        say(`  signer: withdrawal #${withdrawals} ${w}`);
      }
      await sleep(900);
    }
  })();

  say(`\nPhase 1 — ${normalSeconds} s of ordinary customer withdrawals, and sweeps to the cold wallets.`);
  await sleep(normalSeconds * 500);
  say(`  treasury: ${await chain.sweepToCold()}`);
  say(`  treasury: ${btc.sweepToCold()}`);
  await sleep(normalSeconds * 500);

  say(
    '\nPhase 2 — the hot keys are stolen: stablecoins and bitcoin first, then an unlisted token, then ETH, no single transfer above the single-transaction limit.',
  );
  let drained = 0n;
  const drainStarted = Date.now();
  for (const step of drainPlan(chain, btc)) {
    if (trippedAtMs !== undefined) break;
    const sent = await step();
    drained += sent.usdMicros;
    say(`  attacker: ${sent.text} (drained so far ≈ ${formatUsd(drained)})`);
    await sleep(1500);
  }
  for (let waited = 0; trippedAtMs === undefined && waited < 30_000; waited += 250) await sleep(250);
  if (trippedAtMs === undefined) {
    say('\nThe breaker did not trip — this is a bug in the demo or the breaker.');
    stopping = true;
    await signer;
    await opsConsole.close();
    await runtime.stop();
    return 1;
  }
  say(
    `\nTRIPPED ${((trippedAtMs - started) / 1000).toFixed(1)} s into the demo, ${((trippedAtMs - drainStarted) / 1000).toFixed(1)} s after the drain began. The page above is what on-call receives.`,
  );
  say(
    `Bitcoin in the totals at the trip: ${bitcoinSeen.counted} outflows, ${formatUsd(bitcoinSeen.usdMicros)}, counted in the global USD limits with every other chain (${bitcoinSeen.own} sweep${bitcoinSeen.own === 1 ? '' : 's'} to the cold wallet recorded, not counted).`,
  );
  say('Signing is halted: the signer now asks the breaker before each withdrawal, on either chain, and is refused.');
  say(
    'Try, in another terminal:  npx breaker status   and   npx breaker reset --reason "reviewed: demo drain, keys rotated"',
  );
  say(`…or open the web console: ${opsConsole.url}`);
  if (exitAfterTrip) {
    await sleep(2500);
  } else {
    say('Watching until Ctrl-C …');
    await waitForSignal();
  }
  stopping = true;
  await signer;
  await opsConsole.close();
  await runtime.stop();
  return 0;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** `port` when free (so config/demo.yaml is literally right), otherwise any free port. */
async function preferredPort(port: number): Promise<number> {
  const { createServer } = await import('node:net');
  const { freePort } = await import('../anvil-process.ts');
  const free = await new Promise<boolean>((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
  return free ? port : freePort();
}
