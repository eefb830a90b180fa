/**
 * dynalite for the benchmarks, either in this process (as `npm start` and the tests run it) or on its own
 * worker thread. In production DynamoDB runs on AWS's machines, not in the poller's event loop: on its own
 * thread, dynalite's CPU time no longer counts as the poller's, which is the fairer model for throughput.
 */
import { Worker } from 'node:worker_threads';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  createTableIfMissing,
  localDynamoClient,
  startLocalDynamo,
} from '../../functions/adapters/dynamodb/local-dynamo.ts';

export type DynamoPlacement = 'worker-thread' | 'in-process';

export interface BenchDynamo {
  client: DynamoDBClient;
  tableName: string;
  close(): Promise<void>;
}

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const dynalite = require('node:module').createRequire(workerData.from)('dynalite');
const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));
parentPort.on('message', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
`;

export async function startBenchDynamo(placement: DynamoPlacement, tableName = 'bench'): Promise<BenchDynamo> {
  if (placement === 'in-process') {
    const local = await startLocalDynamo({ tableName });
    return { client: local.client, tableName, close: local.close };
  }
  const worker = new Worker(WORKER, { eval: true, workerData: { from: import.meta.url } });
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  const client = localDynamoClient(`http://127.0.0.1:${port}`);
  const close = async () => {
    client.destroy();
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    worker.postMessage('close');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 2000))]);
    await worker.terminate();
  };
  try {
    await createTableIfMissing(client, tableName);
  } catch (e) {
    await close();
    throw e;
  }
  return { client, tableName, close };
}
