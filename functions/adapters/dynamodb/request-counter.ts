import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** Requests a client sent, for benchmarks such as "DynamoDB requests per idle poll" (cost is per request). */
export interface DynamoRequestCounter {
  /** Operation name ('GetItem', 'Query', …) → requests sent; SDK retries count, as AWS bills them. */
  readonly byOperation: Record<string, number>;
  total(): number;
  reset(): void;
  /** Remove the counting middleware from the client. */
  stop(): void;
}

let counters = 0;

export function countDynamoRequests(client: DynamoDBClient): DynamoRequestCounter {
  const name = `hotWalletBreakerRequestCounter${++counters}`;
  const byOperation: Record<string, number> = {};
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const operation = (context.commandName ?? 'Unknown').replace(/Command$/, '');
      byOperation[operation] = (byOperation[operation] ?? 0) + 1;
      return next(args);
    },
    // The deserialize step runs inside the retry middleware (finalizeRequest), so once per attempt.
    { step: 'deserialize', name },
  );
  return {
    byOperation,
    total: () => Object.values(byOperation).reduce((a, b) => a + b, 0),
    reset: () => {
      for (const key of Object.keys(byOperation)) delete byOperation[key];
    },
    stop: () => {
      client.middlewareStack.remove(name);
    },
  };
}
