import { ConfigError, PublishError } from '../../core/errors.ts';
import type { PagePublisher } from '../../core/ports.ts';
import type { Page } from '../../core/state.ts';
import { describeError } from './retry.ts';

export interface FanoutTarget {
  /** Names the target in errors: 'sns', 'webhook:opsgenie', 'console'. */
  readonly name: string;
  readonly publisher: PagePublisher;
}

/**
 * Hands each page to every target at once. One target failing never stops the others; afterwards a
 * PublishError names the failed targets (and the delivered ones, so on-call knows where the page did
 * get through) and carries their errors in an AggregateError.
 */
export class FanoutPagePublisher implements PagePublisher {
  readonly #targets: readonly FanoutTarget[];

  constructor(targets: readonly FanoutTarget[]) {
    const issues: string[] = [];
    // With no target a page would vanish without an error.
    if (targets.length === 0) issues.push('targets: at least one publisher is required');
    const seen = new Set<string>();
    for (const [i, target] of targets.entries()) {
      if (target.name.trim() === '') issues.push(`targets[${i}].name: must not be empty`);
      else if (seen.has(target.name)) issues.push(`targets[${i}].name: "${target.name}" is used twice`);
      seen.add(target.name);
    }
    if (issues.length > 0) throw new ConfigError('FanoutPagePublisher targets', issues);
    this.#targets = [...targets];
  }

  async publish(page: Page): Promise<void> {
    // The async wrapper makes a publisher that throws synchronously a failure like any other.
    const results = await Promise.allSettled(this.#targets.map(async (t) => t.publisher.publish(page)));
    const failed: { name: string; error: unknown }[] = [];
    const delivered: string[] = [];
    results.forEach((result, i) => {
      const name = (this.#targets[i] as FanoutTarget).name;
      if (result.status === 'rejected') failed.push({ name, error: result.reason });
      else delivered.push(name);
    });
    if (failed.length === 0) return;
    const reasons = failed.map((f) => `${f.name}: ${describeError(f.error)}`).join('; ');
    throw new PublishError(
      `${page.kind} page ${page.id}: ${failed.length} of ${this.#targets.length} publishers failed (${failed
        .map((f) => f.name)
        .join(', ')}); delivered via ${delivered.length > 0 ? delivered.join(', ') : 'none'}. ${reasons}`,
      {
        cause: new AggregateError(
          failed.map((f) => f.error),
          reasons,
        ),
      },
    );
  }
}
