import { ConsolePageSink } from '../adapters/pages/console-page-sink.ts';
import { FanoutPagePublisher, type FanoutTarget } from '../adapters/pages/fanout-page-publisher.ts';
import { WebhookPagePublisher } from '../adapters/pages/webhook-page-publisher.ts';
import type { BreakerConfig } from '../core/config/types.ts';
import type { PagePublisher } from '../core/ports.ts';

/** The local runtime's pager: pages are printed, and POSTed to pages.webhookUrl when configured. */
export function localPublisher(config: BreakerConfig): PagePublisher {
  const targets: FanoutTarget[] = [{ name: 'console', publisher: new ConsolePageSink() }];
  if (config.pages.webhookUrl) {
    targets.push({ name: 'webhook', publisher: new WebhookPagePublisher({ url: config.pages.webhookUrl }) });
  }
  return new FanoutPagePublisher(targets);
}
