import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { formatUsd } from '../../core/amounts.ts';
import { compileConfig } from '../../core/config/compile.ts';
import { createKillSwitch } from '../../guard/kill-switch.ts';
import { startAnvil } from '../anvil-process.ts';
import { DemoChain } from '../demo-chain.ts';
import { outflowSummary } from '../format.ts';
import { localPublisher } from '../publishers.ts';
import { startRuntime } from '../runtime.ts';
import { waitForSignal } from './watch.ts';

export const summary = 'the local demo (npm start): a chain, the breaker, withdrawals, then a drain that trips it';

const DEMO_CONFIG = 'config/demo.yaml';

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      'exit-after-trip': { type: 'boolean' },
      'normal-seconds': { type: 'string', default: '12' },
      port: { type: 'string' },
    },
  });
  const say = (line: string) => process.stdout.write(`${line}\n`);
  const normalSeconds = Number(values['normal-seconds']);

  say(
    'hot-wallet-breaker demo — everything local: anvil (EVM chain), dynalite (DynamoDB), the real pollers and rules.',
  );
  const anvil = await startAnvil({
    port: values.port !== undefined ? Number(values.port) : await preferredPort(8545),
    blockTime: 1,
    chainId: 31337,
  });
  try {
    return await playDemo(anvil.url, values['exit-after-trip'] === true, normalSeconds, say);
  } finally {
    await anvil.stop();
  }
}

async function playDemo(
  anvilUrl: string,
  exitAfterTrip: boolean,
  normalSeconds: number,
  say: (line: string) => void,
): Promise<number> {
  const rawConfig = parseYaml(readFileSync(DEMO_CONFIG, 'utf8')) as { chains: { devnet: { rpc: string[] } } };
  rawConfig.chains.devnet.rpc = [anvilUrl];
  const config = compileConfig(rawConfig, DEMO_CONFIG);
  const devnet = config.chains.get('devnet');
  if (!devnet) throw new Error(`${DEMO_CONFIG} must define the devnet chain`);
  say(`  chain: anvil at ${anvilUrl} (1 s blocks); config: ${DEMO_CONFIG}`);

  const chain = await DemoChain.start(anvilUrl, devnet);
  say(`  deployed USDT ${chain.usdt}, USDC ${chain.usdc} and an unlisted token ${chain.unknownToken}`);
  say(
    `  hot wallet ${devnet.hotWallets[0]}, cold wallet ${[...devnet.ownAddresses].find((a) => !devnet.hotWallets.includes(a))}`,
  );
  for (const r of config.rules) say(`  rule ${r.id}`);

  let trippedAtMs: number | undefined;
  const runtime = await startRuntime({
    config,
    configPath: DEMO_CONFIG,
    publisher: localPublisher(config),
    onResult: (_chain, r) => {
      if (r.kind !== 'advanced') return;
      for (const o of r.outflows) say(`  seen  ${outflowSummary(o)}`);
      for (const w of r.warnings) say(`  WARN  ${w}`);
      if (r.trips.length > 0 && trippedAtMs === undefined) trippedAtMs = Date.now();
    },
    onError: (c, e) => say(`  ${c}: POLL FAILED — ${(e as Error).message}`),
  });
  const killSwitch = createKillSwitch(runtime.store);
  const started = Date.now();

  // The exchange's signing service: asks the breaker before every customer withdrawal.
  let withdrawals = 0;
  let rejected = 0;
  let stopping = false;
  const signer = (async () => {
    while (!stopping) {
      const decision = await killSwitch.isHalted({ chain: 'devnet' });
      if (decision.halted) {
        rejected++;
        if (rejected <= 3 || rejected % 10 === 0) say(`  signer: customer withdrawal REJECTED — ${decision.reason}`);
      } else {
        const w = await chain.customerWithdrawal();
        withdrawals++;
        say(`  signer: withdrawal #${withdrawals} ${w}`);
      }
      await sleep(900);
    }
  })();

  say(`\nPhase 1 — ${normalSeconds} s of ordinary customer withdrawals, and a sweep to the cold wallet.`);
  await sleep(normalSeconds * 500);
  say(`  treasury: ${await chain.sweepToCold()}`);
  await sleep(normalSeconds * 500);

  say(
    '\nPhase 2 — the hot key is stolen: stablecoins first, then an unlisted token, then ETH, no single transfer above the single-transaction limit.',
  );
  let drained = 0n;
  for (const step of chain.drainPlan()) {
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
    await runtime.stop();
    return 1;
  }
  say(
    `\nTRIPPED ${((trippedAtMs - started) / 1000).toFixed(1)} s into the demo. The page above is what on-call receives.`,
  );
  say('Signing is halted: the signer now asks the breaker before each withdrawal and is refused.');
  say(
    'Try, in another terminal:  npx breaker status   and   npx breaker reset --reason "reviewed: demo drain, keys rotated"',
  );
  if (exitAfterTrip) {
    await sleep(2500);
  } else {
    say('Watching until Ctrl-C …');
    await waitForSignal();
  }
  stopping = true;
  await signer;
  await runtime.stop();
  return 0;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** 8545 when free (so config/demo.yaml is literally right), otherwise any free port. */
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
