import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { loadConfigFile } from '../adapters/config/config-file.ts';
import type { DynamoDbBreakerStore } from '../adapters/dynamodb/dynamodb-breaker-store.ts';
import type { ConsoleHttpResponse } from '../console/http.ts';
import type { ConsoleApi } from '../console/local-server.ts';
import { OpsConsole } from '../console/service.ts';
import { BreakerError } from '../core/errors.ts';
import type { PagePublisher } from '../core/ports.ts';
import { systemClock } from '../core/time.ts';
import { snsPagePublisher, ssmKillSwitchMirror } from '../runtime/aws-pagers.ts';
import { tableStores } from '../runtime/table-stores.ts';

/**
 * The CLI against a deployed stack. Two ways, both with AWS credentials from the standard chain
 * (environment, profile, SSO, instance role):
 *  - `--stack <name>` (or `--url`): through the stack's console API, an IAM-authorised function URL,
 *    SigV4-signed here. AWS verifies the caller; the Lambda records that principal, publishes the
 *    pages and updates the kill-switch mirror. Operators need only the stack's operator policy.
 *  - `--table <name> --region … --config <file>`: straight at the table (break-glass, e.g. with the
 *    functions broken). The operator is the STS GetCallerIdentity ARN of the credentials; pages go
 *    to `--topic` when given, else stay in the state's outbox for the next poller run.
 */

export interface StackApi {
  label: string;
  proxy: ConsoleApi;
  /** GET/POST an /api route; throws on a transport failure, returns any HTTP answer. */
  call(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
  ): Promise<{ status: number; data: Record<string, unknown> }>;
  /** The principal AWS verified for these credentials, as the stack records it. */
  whoami(): Promise<string>;
}

export class AwsTargetError extends BreakerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CONFIG_INVALID', message, options);
  }
}

export async function resolveStackApi(opts: { stack?: string; url?: string; region?: string }): Promise<StackApi> {
  const credentials = defaultProvider();
  let base = opts.url;
  let region = opts.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  let label = opts.url ?? '';
  if (!base) {
    const found = await stackOutputs(opts.stack ?? '', region);
    base = found.outputs.ConsoleUrl;
    label = found.stackName;
    if (!base) throw new AwsTargetError(`stack ${found.stackName} has no ConsoleUrl output: deploy this version first`);
  }
  const url = new URL(base);
  // Function URL hosts name their region: <id>.lambda-url.<region>.on.aws
  region = /\.lambda-url\.([a-z0-9-]+)\.on\.aws$/.exec(url.hostname)?.[1] ?? region;
  if (!region) throw new AwsTargetError('no AWS region: pass --region or set AWS_REGION');
  const signer = new SignatureV4({ service: 'lambda', region, credentials, sha256: Hash.bind(null, 'sha256') });

  const send = async (
    method: string,
    path: string,
    query: URLSearchParams,
    body: string | undefined,
    contentType?: string,
  ) => {
    const headers: Record<string, string> = { host: url.host, accept: 'application/json' };
    if (contentType) headers['content-type'] = contentType;
    const signed = await signer.sign({
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      path,
      query: Object.fromEntries(query),
      headers,
      body,
    });
    const { host: _host, ...sendHeaders } = signed.headers;
    const target = new URL(path, url);
    target.search = query.toString();
    return fetch(target, { method, headers: sendHeaders, body });
  };

  const proxy: ConsoleApi = async (req) => {
    const res = await send(req.method, req.path, req.query, req.body, req.headers['content-type']);
    const reply: ConsoleHttpResponse = {
      status: res.status,
      headers: { 'content-type': res.headers.get('content-type') ?? 'application/json', 'cache-control': 'no-store' },
      body: await res.text(),
    };
    // Lambda's own 403 (missing lambda:InvokeFunctionUrl) is not JSON in our shape: make it readable.
    if (res.status === 403 && !reply.body.includes('"ok"')) {
      reply.body = JSON.stringify({
        ok: false,
        error: `AWS refused the request (403): your credentials need lambda:InvokeFunctionUrl on the console function (the stack's OperatorPolicyArn) — ${reply.body.slice(0, 200)}`,
      });
      reply.headers['content-type'] = 'application/json';
    }
    return reply;
  };

  const call: StackApi['call'] = async (method, pathAndQuery, body) => {
    const [path = '/', query = ''] = pathAndQuery.split('?', 2);
    const res = await proxy({
      method,
      path,
      query: new URLSearchParams(query),
      body: body === undefined ? undefined : JSON.stringify(body),
      headers: { 'content-type': body === undefined ? undefined : 'application/json' },
    });
    try {
      return { status: res.status, data: JSON.parse(res.body) as Record<string, unknown> };
    } catch {
      return { status: res.status, data: { ok: false, error: `HTTP ${res.status}: ${res.body.slice(0, 200)}` } };
    }
  };

  return {
    label,
    proxy,
    call,
    async whoami() {
      const { status, data } = await call('GET', '/api/whoami');
      if (status !== 200)
        throw new AwsTargetError(`console API at ${label}: ${String(data.error ?? `HTTP ${status}`)}`);
      return String(data.operator);
    },
  };
}

async function stackOutputs(
  name: string,
  region: string | undefined,
): Promise<{ stackName: string; outputs: Record<string, string> }> {
  if (!name) throw new AwsTargetError('--stack <name> is required (e.g. hot-wallet-breaker-example-exchange)');
  const cfn = new CloudFormationClient(region ? { region } : {});
  try {
    const candidates = name.startsWith('hot-wallet-breaker-') ? [name] : [name, `hot-wallet-breaker-${name}`];
    for (const stackName of candidates) {
      try {
        const out = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
        const outputs = Object.fromEntries(
          (out.Stacks?.[0]?.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue ?? '']),
        );
        return { stackName, outputs };
      } catch (e) {
        if (stackName === candidates.at(-1)) throw e;
      }
    }
    throw new AwsTargetError(`stack ${name} not found`);
  } catch (e) {
    if (e instanceof AwsTargetError) throw e;
    throw new AwsTargetError(`could not read stack ${name}: ${(e as Error).message}`, { cause: e });
  } finally {
    cfn.destroy();
  }
}

/** The identity AWS attributes to these credentials (what CloudTrail records for every call). */
export async function callerArn(region: string | undefined): Promise<string> {
  const sts = new STSClient(region ? { region } : {});
  try {
    const out = await sts.send(new GetCallerIdentityCommand({}));
    if (!out.Arn) throw new AwsTargetError('STS GetCallerIdentity returned no ARN');
    return out.Arn;
  } catch (e) {
    if (e instanceof AwsTargetError) throw e;
    throw new AwsTargetError(`no usable AWS credentials (STS GetCallerIdentity failed): ${(e as Error).message}`, {
      cause: e,
    });
  } finally {
    sts.destroy();
  }
}

export interface TableTarget {
  ops: OpsConsole;
  /** The table itself, for `breaker init --table` (the only command that writes without the console's routes). */
  store: DynamoDbBreakerStore;
  publisher: PagePublisher;
  operator: string;
  where: string;
  close(): void;
}

/** Break-glass: the table itself, acting as the STS caller. */
export async function connectTable(opts: {
  table: string;
  region?: string;
  config?: string;
  topic?: string;
  killSwitchParameter?: string;
}): Promise<TableTarget> {
  if (!opts.config) {
    throw new AwsTargetError('--table needs --config <the file the stack was deployed from> (rules, chains, name)');
  }
  const config = loadConfigFile(opts.config);
  const region = opts.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  if (!region) throw new AwsTargetError('no AWS region: pass --region or set AWS_REGION');
  const operator = await callerArn(region);
  const dynamo = new DynamoDBClient({ region });
  const sns = opts.topic ? new SNSClient({ region }) : undefined;
  const ssm = opts.killSwitchParameter ? new SSMClient({ region }) : undefined;
  const publisher: PagePublisher = sns
    ? snsPagePublisher(sns, opts.topic as string)
    : {
        publish: async () => {
          throw new Error('no --topic given: the page stays queued and the next poller run delivers it');
        },
      };
  const store = tableStores(dynamo, opts.table).store;
  const ops = new OpsConsole({
    config,
    store,
    publisher,
    clock: systemClock,
    mirror: ssm ? ssmKillSwitchMirror(ssm, opts.killSwitchParameter as string) : undefined,
  });
  return {
    ops,
    store,
    publisher,
    operator,
    where: `table ${opts.table} (${region})`,
    close() {
      dynamo.destroy();
      sns?.destroy();
      ssm?.destroy();
    },
  };
}
