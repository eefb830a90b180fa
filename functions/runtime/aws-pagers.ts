import type { SNSClient } from '@aws-sdk/client-sns';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { SnsPagePublisher } from '../adapters/sns/sns-page-publisher.ts';
import { SsmKillSwitchMirror } from '../adapters/ssm/ssm-kill-switch-mirror.ts';

/**
 * The AWS-backed pager and kill-switch mirror, built here only: the Lambda composition root
 * (compose.ts) and the CLI's `--table` target (local/aws-target.ts) share them. Apart from compose.ts
 * so the CLI does not load every chain adapter to page.
 */
export function snsPagePublisher(client: SNSClient, topicArn: string): SnsPagePublisher {
  return new SnsPagePublisher({ client, topicArn });
}

export function ssmKillSwitchMirror(client: SSMClient, parameterName: string): SsmKillSwitchMirror {
  return new SsmKillSwitchMirror({ client, parameterName });
}
