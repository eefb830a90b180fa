/** Small measuring tools shared by the benchmarks. */

/**
 * Wraps every method of `target` so the wall time of each call (until its promise settles) is added to
 * `spent[name]`, and the length of any array it returns to `items[name]`. The poller's ports are wrapped
 * this way to show where a catch-up's time goes.
 */
export function timed<T extends object>(
  target: T,
  spent: Record<string, number>,
  prefix: string,
  items: Record<string, number> = {},
): T {
  return new Proxy(target, {
    get(obj, key, receiver) {
      const value = Reflect.get(obj, key, receiver);
      if (typeof value !== 'function' || typeof key !== 'string') return value;
      return (...args: unknown[]) => {
        const started = performance.now();
        const name = `${prefix}.${key}`;
        const add = () => {
          spent[name] = (spent[name] ?? 0) + performance.now() - started;
        };
        const result = value.apply(obj, args);
        if (result instanceof Promise) {
          return result
            .then((r: unknown) => {
              if (Array.isArray(r)) items[name] = (items[name] ?? 0) + r.length;
              return r;
            })
            .finally(add);
        }
        add();
        return result;
      };
    },
  });
}

/** Nearest-rank percentile of `values` (p in 0–100). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export function abortableSleep(signal: AbortSignal): (ms: number) => Promise<void> {
  return (ms) =>
    new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done, { once: true });
    });
}
