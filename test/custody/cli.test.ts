/**
 * `breaker fireblocks-callback` as a real child process on breaker watch's on-disk store (dynalite),
 * answering the co-signer stand-in end to end.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DynamoDbBreakerStore } from '../../functions/adapters/dynamodb/dynamodb-breaker-store.ts';
import { startLocalDynamo } from '../../functions/adapters/dynamodb/local-dynamo.ts';
import { FireblocksCosignerStandIn, rsaKeyPair, transferPayload } from '../support/fireblocks-cosigner.ts';
import { allApprovals, arm, CUSTOMER, HOT } from './support.ts';

async function withStore<T>(path: string, use: (store: DynamoDbBreakerStore) => Promise<T>): Promise<T> {
  const dynamo = await startLocalDynamo({ path });
  try {
    return await use(new DynamoDbBreakerStore({ client: dynamo.client, tableName: dynamo.tableName }));
  } finally {
    await dynamo.close();
  }
}

/** The first line the command prints, which names the callback URL. */
function firstLine(child: ChildProcess, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`no output within ${timeoutMs} ms: ${err}`)), timeoutMs);
    child.stderr?.on('data', (d) => {
      err += String(d);
    });
    child.stdout?.on('data', (d) => {
      out += String(d);
      if (out.includes('\n')) {
        clearTimeout(timer);
        resolve(out.split('\n')[0] as string);
      }
    });
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${err}`)));
  });
}

describe('breaker fireblocks-callback', () => {
  let dir: string | undefined;
  let child: ChildProcess | undefined;
  afterEach(() => {
    child?.kill('SIGKILL');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('serves the co-signer stand-in end to end and records the approval in the store', async () => {
    dir = mkdtempSync(join(tmpdir(), 'fb-cli-'));
    const cosigner = rsaKeyPair();
    const callback = rsaKeyPair();
    writeFileSync(join(dir, 'cosigner.pem'), cosigner.publicKeyPem);
    writeFileSync(join(dir, 'callback.pem'), callback.privateKeyPem);
    const config = {
      name: 'fb-cli',
      chains: {
        devnet: {
          kind: 'evm',
          chainId: 31337,
          rpc: ['http://127.0.0.1:1'],
          confirmations: 0,
          blockTimeSeconds: 1,
          hotWallets: [HOT],
          native: { symbol: 'ETH', decimals: 18, usdPrice: 2000 },
        },
      },
      limits: { global: { usd: { '10m': 1_000_000 } } },
      custody: {
        fireblocks: {
          cosignerPublicKeyFile: 'cosigner.pem',
          callbackPrivateKeyFile: 'callback.pem',
          pathPrefix: '/fb',
          assets: { ETH: { chain: 'devnet', asset: 'ETH', decimals: 18 } },
        },
      },
    };
    writeFileSync(join(dir, 'breaker.yaml'), JSON.stringify(config));
    const storePath = join(dir, 'store');
    await withStore(storePath, arm);

    child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'functions/local/cli.ts',
        'fireblocks-callback',
        '--config',
        join(dir, 'breaker.yaml'),
        '--port',
        '0',
        '--store',
        storePath,
      ],
      { env: { ...process.env, NO_COLOR: '1' } },
    );
    const line = await firstLine(child, 30_000);
    const base = /set (http:\/\/127\.0\.0\.1:\d+\/fb) as the callback URL/.exec(line)?.[1];
    expect(base, line).toBeDefined();

    const standIn = new FireblocksCosignerStandIn({
      baseUrl: base as string,
      callbackPublicKeyPem: callback.publicKeyPem,
      keys: cosigner,
    });
    const payload = transferPayload({
      requestId: 'cli-1',
      asset: 'ETH',
      amountStr: '0.010000000000000000',
      destAddress: CUSTOMER,
      stage: 'signing',
    });
    expect(await standIn.signRequest(payload)).toMatchObject({ kind: 'answered', action: 'APPROVE' });

    const exited = new Promise((r) => child?.once('exit', r));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const records = await withStore(storePath, (store) => allApprovals(store, 'devnet'));
    expect(records.map((r) => [r.withdrawalId, r.amount])).toEqual([['fireblocks:cli-1', 10_000_000_000_000_000n]]);
  }, 60_000);
});
