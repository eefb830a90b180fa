import type { ParseArgsConfig } from 'node:util';
import { handleConsoleHttp } from '../console/http.ts';
import { localOperator } from '../console/local-server.ts';
import { OpsConsole } from '../console/service.ts';
import { systemClock } from '../core/time.ts';
import { connectTable, resolveStackApi } from './aws-target.ts';
import { connectLocal } from './connect.ts';
import { localPublisher } from './publishers.ts';

/**
 * Where `breaker status|history|reset|trip` act: the local store (as the OS user), a deployed stack
 * through its console API (as the IAM principal AWS verifies), or a stack's table directly (as the
 * STS caller). All three speak the console API's routes, so validation, answers and the audit record
 * are the same whichever way an operator comes in.
 */
export interface OperatorTarget {
  where: string;
  call(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
  ): Promise<{ status: number; data: Record<string, unknown> }>;
  close(): Promise<void>;
}

export const targetOptions = {
  config: { type: 'string' },
  store: { type: 'string' },
  stack: { type: 'string' },
  url: { type: 'string' },
  region: { type: 'string' },
  table: { type: 'string' },
  topic: { type: 'string' },
  'kill-switch-parameter': { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

export const targetHelp =
  'target: the local store (default; --config, --store), --stack <name> [--region r] (the deployed console API, IAM), or --table <name> --region r --config <file> [--topic arn] (the table directly, as the STS caller)';

type TargetValues = { [K in keyof typeof targetOptions]?: string };

export async function openTarget(values: TargetValues): Promise<OperatorTarget> {
  if (values.stack || values.url) {
    const remote = await resolveStackApi({ stack: values.stack, url: values.url, region: values.region });
    return { where: `stack ${remote.label}`, call: remote.call, close: async () => {} };
  }
  if (values.table) {
    const t = await connectTable({
      table: values.table,
      region: values.region,
      config: values.config,
      topic: values.topic,
      killSwitchParameter: values['kill-switch-parameter'],
    });
    return { where: t.where, call: inProcessCall(t.ops, t.operator), close: async () => t.close() };
  }
  const conn = await connectLocal(values);
  const ops = new OpsConsole({
    config: conn.config,
    store: conn.store,
    publisher: localPublisher(conn.config),
    clock: systemClock,
  });
  return { where: conn.where, call: inProcessCall(ops, localOperator()), close: () => conn.close() };
}

function inProcessCall(ops: OpsConsole, operator: string): OperatorTarget['call'] {
  const noAssets = { get: () => undefined };
  return async (method, pathAndQuery, body) => {
    const [path = '/', query = ''] = pathAndQuery.split('?', 2);
    const res = await handleConsoleHttp(
      {
        method,
        path,
        query: new URLSearchParams(query),
        body: body === undefined ? undefined : JSON.stringify(body),
        headers: { 'content-type': 'application/json' },
        operator,
      },
      ops,
      noAssets,
    );
    return { status: res.status, data: JSON.parse(res.body) as Record<string, unknown> };
  };
}

/** Exit code for an API answer: 0 done, 2 rejected or invalid (the message says why), 1 anything else. */
export function exitCodeFor(status: number): number {
  if (status >= 200 && status < 300) return 0;
  return status === 400 || status === 409 ? 2 : 1;
}
