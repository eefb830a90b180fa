import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import type { PageTopic } from './page-topic.ts';

export interface TamperAlertsProps {
  readonly deploymentName: string;
  readonly pages: PageTopic;
  /** Every function of the deployment: a change to any of them changes what the breaker does. */
  readonly functions: readonly lambda.IFunction[];
  readonly scheduleGroup: scheduler.IScheduleGroup;
  readonly killSwitchParameter: ssm.IStringParameter;
  /** The roles that write the kill-switch parameter as part of their job; anyone else writing it is paged. */
  readonly parameterWriters: readonly iam.IRole[];
  readonly trail: { readonly name: string; readonly arn: string };
}

/**
 * Pages on the control-plane calls that could change, blind or loosen the breaker without going through it (security
 * review §4/§5): code, configuration, concurrency, permissions or deletion of a breaker function; an update or
 * deletion of its schedules; a write to the kill-switch parameter by anyone but the breaker's own roles; and
 * anything that stops or narrows the operator trail. EventBridge receives these as "AWS API Call via CloudTrail"
 * events from a trail that logs management events
 * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail.html); a deploy pages too,
 * which is intended: it is how limits change. (targets.SnsTopic adds the topic-policy and key-policy statements that
 * let EventBridge publish to the encrypted topic.)
 */
export class TamperAlerts extends Construct {
  readonly rules: events.Rule[] = [];

  constructor(scope: Construct, id: string, props: TamperAlertsProps) {
    super(scope, id);
    const page = (what: string) =>
      new targets.SnsTopic(props.pages.topic, {
        message: events.RuleTargetInput.fromText(
          `[TAMPER] ${props.deploymentName}: ${what}: ${events.EventField.fromPath('$.detail.eventName')} by ${events.EventField.fromPath('$.detail.userIdentity.arn')} at ${events.EventField.fromPath('$.time')} (CloudTrail event ${events.EventField.fromPath('$.detail.eventID')}). If this was not a planned change, treat the breaker as compromised: check its functions, schedules and kill-switch parameter.`,
        ),
      });
    const rule = (id: string, what: string, pattern: events.EventPattern) => {
      const r = new events.Rule(this, id, {
        description: `hot-wallet-breaker ${props.deploymentName}: page on ${what}`,
        eventPattern: { detailType: ['AWS API Call via CloudTrail'], ...pattern },
      });
      r.addTarget(page(what));
      this.rules.push(r);
    };

    // Lambda's CloudTrail event names carry an API version suffix (UpdateFunctionCode20150331v2), hence prefixes.
    rule('FunctionChanged', 'a breaker function changed', {
      source: ['aws.lambda'],
      detail: {
        eventSource: ['lambda.amazonaws.com'],
        eventName: [
          'UpdateFunctionCode',
          'UpdateFunctionConfiguration',
          'PutFunctionConcurrency',
          'DeleteFunctionConcurrency',
          'DeleteFunction',
          'AddPermission',
          'RemovePermission',
          'CreateFunctionUrlConfig',
          'UpdateFunctionUrlConfig',
          'DeleteFunctionUrlConfig',
          'PutFunctionCodeSigningConfig',
          'DeleteFunctionCodeSigningConfig',
        ].map((prefix) => ({ prefix })),
        requestParameters: {
          functionName: props.functions.flatMap((f) => [f.functionName, { suffix: `:function:${f.functionName}` }]),
        },
      },
    });
    rule('ScheduleChanged', 'a breaker schedule changed', {
      source: ['aws.scheduler'],
      detail: {
        eventSource: ['scheduler.amazonaws.com'],
        eventName: ['UpdateSchedule', 'DeleteSchedule', 'DeleteScheduleGroup'],
        requestParameters: { groupName: [props.scheduleGroup.scheduleGroupName] },
      },
    });
    rule('KillSwitchWritten', 'the kill-switch parameter written by someone other than the breaker', {
      source: ['aws.ssm'],
      detail: {
        eventSource: ['ssm.amazonaws.com'],
        eventName: ['PutParameter', 'DeleteParameter', 'LabelParameterVersion'],
        requestParameters: {
          name: [
            props.killSwitchParameter.parameterName,
            { suffix: `:parameter${props.killSwitchParameter.parameterName}` },
          ],
        },
        userIdentity: {
          sessionContext: {
            sessionIssuer: { arn: [{ 'anything-but': props.parameterWriters.map((r) => r.roleArn) }] },
          },
        },
      },
    });
    // A principal that is not an assumed role (an IAM user, root) has no session issuer: the rule above does not
    // match it, so writes by such principals page separately.
    rule('KillSwitchWrittenByUser', 'the kill-switch parameter written by an IAM user or root', {
      source: ['aws.ssm'],
      detail: {
        eventSource: ['ssm.amazonaws.com'],
        eventName: ['PutParameter', 'DeleteParameter', 'LabelParameterVersion'],
        requestParameters: {
          name: [
            props.killSwitchParameter.parameterName,
            { suffix: `:parameter${props.killSwitchParameter.parameterName}` },
          ],
        },
        userIdentity: { type: [{ 'anything-but': ['AssumedRole'] }] },
      },
    });
    rule('TrailChanged', 'the operator trail stopped or changed', {
      source: ['aws.cloudtrail'],
      detail: {
        eventSource: ['cloudtrail.amazonaws.com'],
        eventName: ['StopLogging', 'DeleteTrail', 'UpdateTrail', 'PutEventSelectors'],
        requestParameters: { name: [props.trail.name, props.trail.arn] },
      },
    });
  }
}
