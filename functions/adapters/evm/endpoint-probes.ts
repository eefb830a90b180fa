import { redactEndpoint } from '../http/endpoint-url.ts';
import { JsonRpcClient, type JsonRpcClientOptions, type RpcCounters } from './json-rpc-client.ts';

/**
 * What the head cross-checks (evm/head-check.ts, solana/solana-head-check.ts) share: one client per
 * endpoint, and the majority of the hashes they report for one block.
 */

export interface EndpointProbe {
  readonly url: string;
  /** The endpoint with its credentials redacted, for messages. */
  readonly name: string;
  readonly client: JsonRpcClient;
}

export type ProbeClientOptions = Pick<
  JsonRpcClientOptions,
  'timeoutMs' | 'chainId' | 'networkProbe' | 'fetch' | 'maxResponseBytes'
>;

/** One client per endpoint, with no failover and no retries: each answer must come from the endpoint it is about. */
export function endpointProbes(label: string, urls: readonly string[], options: ProbeClientOptions): EndpointProbe[] {
  return urls.map((url) => ({
    url,
    name: redactEndpoint(url),
    client: new JsonRpcClient({
      ...options,
      label: `${label} (cross-check of ${redactEndpoint(url)})`,
      urls: [url],
      batchSize: 10,
      maxAttempts: 1,
    }),
  }));
}

export function probeCounters(probes: readonly EndpointProbe[]): RpcCounters {
  const sum: RpcCounters = { rpcCalls: 0, httpRequests: 0, failedRequests: 0 };
  for (const p of probes) {
    const c = p.client.counters();
    sum.rpcCalls += c.rpcCalls;
    sum.httpRequests += c.httpRequests;
    sum.failedRequests += c.failedRequests;
  }
  return sum;
}

/**
 * The hash most endpoints report (undefined: no endpoint answered). `tie`: the two most reported hashes
 * are reported equally often, so no majority can be trusted (two endpoints, one hash each).
 */
export function majorityHash(hashes: readonly (string | undefined)[]): { majority: string | undefined; tie: boolean } {
  const count = new Map<string, number>();
  for (const h of hashes) if (h !== undefined) count.set(h, (count.get(h) ?? 0) + 1);
  const ranked = [...count.entries()].sort((a, b) => b[1] - a[1]);
  return { majority: ranked[0]?.[0], tie: ranked.length > 1 && ranked[0]?.[1] === ranked[1]?.[1] };
}
