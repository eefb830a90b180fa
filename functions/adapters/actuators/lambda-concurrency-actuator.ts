import {
  DeleteFunctionConcurrencyCommand,
  GetFunctionConcurrencyCommand,
  type LambdaClient,
  PutFunctionConcurrencyCommand,
} from '@aws-sdk/client-lambda';
import type { Actuator, ActuatorMemory, ActuatorMode, LayerReading } from '../../core/actuators/actuator.ts';
import { rememberBeforeEngage, restoreOnRelease } from './memo.ts';

export interface LambdaConcurrencyActuatorOptions {
  client: LambdaClient;
  /** Signer functions (names or unqualified ARNs). */
  functions: readonly string[];
  memory: ActuatorMemory;
  chains?: readonly string[];
}

/**
 * Reserved concurrency 0 on the signer Lambdas while halted: no invocation runs, whatever its
 * code does. The reserved concurrency before the halt (or none) is remembered in the table first
 * and restored on re-arm (PutFunctionConcurrency with it, or DeleteFunctionConcurrency).
 */
export class LambdaConcurrencyActuator implements Actuator {
  readonly id = 'lambda-concurrency';
  readonly follows = 'mode' as const;
  readonly description: string;
  readonly chains?: readonly string[];

  constructor(private readonly options: LambdaConcurrencyActuatorOptions) {
    if (options.functions.length === 0) throw new TypeError('LambdaConcurrencyActuator: no functions');
    this.description = `reserved concurrency 0 on Lambda ${options.functions.join(', ')}`;
    this.chains = options.chains;
  }

  async apply(mode: ActuatorMode): Promise<Record<string, unknown>> {
    const results = await Promise.allSettled(this.options.functions.map((fn) => this.#one(fn, mode)));
    const failed = results.flatMap((r, i) =>
      r.status === 'rejected' ? [`${this.options.functions[i]}: ${describe(r.reason)}`] : [],
    );
    if (failed.length > 0) throw new Error(failed.join('; '));
    return { functions: results.map((r) => (r as PromiseFulfilledResult<Record<string, unknown>>).value) };
  }

  async #one(functionName: string, mode: ActuatorMode): Promise<Record<string, unknown>> {
    const { client, memory } = this.options;
    const key = `lambda-concurrency:${functionName}`;
    if (mode === 'engaged') {
      const remembered = await rememberBeforeEngage(memory, key, Date.now(), async () => {
        const out = await client.send(new GetFunctionConcurrencyCommand({ FunctionName: functionName }));
        return { previous: out.ReservedConcurrentExecutions ?? null };
      });
      await client.send(
        new PutFunctionConcurrencyCommand({ FunctionName: functionName, ReservedConcurrentExecutions: 0 }),
      );
      return { function: functionName, reserved: 0, previous: remembered.previous ?? null };
    }
    const { restored, remembered } = await restoreOnRelease(memory, key, Date.now(), async (r) => {
      if (typeof r.previous === 'number') {
        await client.send(
          new PutFunctionConcurrencyCommand({ FunctionName: functionName, ReservedConcurrentExecutions: r.previous }),
        );
      } else {
        await client.send(new DeleteFunctionConcurrencyCommand({ FunctionName: functionName }));
      }
    });
    return restored
      ? { function: functionName, restored: remembered?.previous ?? 'unreserved' }
      : { function: functionName, restored: false, note: 'not engaged by the breaker: left as it is' };
  }

  /** Engaged when every function is at reserved concurrency 0 (no invocation can run). */
  async readBack(): Promise<LayerReading> {
    const { client, functions } = this.options;
    const reserved = await Promise.all(
      functions.map(async (fn) => {
        const out = await client.send(new GetFunctionConcurrencyCommand({ FunctionName: fn }));
        return out.ReservedConcurrentExecutions;
      }),
    );
    return {
      readable: true,
      engaged: reserved.every((r) => r === 0),
      detail: functions
        .map((fn, i) => `${fn}: ${reserved[i] === undefined ? 'unreserved' : `reserved ${reserved[i]}`}`)
        .join('; '),
    };
  }

  manualSteps(mode: ActuatorMode): string[] {
    return this.options.functions.map((fn) =>
      mode === 'engaged'
        ? `aws lambda put-function-concurrency --function-name ${fn} --reserved-concurrent-executions 0`
        : `aws lambda delete-function-concurrency --function-name ${fn}   (or put back its previous reserved concurrency; see the audit log)`,
    );
  }
}

function describe(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  return e.name && e.name !== 'Error' ? `${e.name}: ${e.message}` : e.message;
}
