import { Duration, Stack } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import { Construct } from 'constructs';
import type { ChainConfig, PollerGroup as PollerGroupConfig } from '../../functions/core/config/types.ts';
import { BreakerFunction } from './breaker-function.ts';
import type { BreakerTable } from './breaker-table.ts';
import type { KillSwitch } from './kill-switch.ts';
import type { PageTopic } from './page-topic.ts';
import { PollerAlarms } from './poller-alarms.ts';
import { pollerGroupMemoryMb } from './poller-memory.ts';
import { POLLER_TIMEOUT } from './poller-timing.ts';
import { TABLE_ACCESS, unionTableAccess } from './table-access.ts';

export interface PollerGroupProps {
  readonly deploymentName: string;
  /** The group (config `pollerGroups`; a chain in no group is a group of its own, named after it). */
  readonly group: PollerGroupConfig;
  /** The group's chains, in the group's order. */
  readonly chains: readonly ChainConfig[];
  readonly configFile: string;
  readonly serviceName: string;
  readonly table: BreakerTable;
  readonly pages: PageTopic;
  readonly killSwitch: KillSwitch;
  readonly scheduleGroup: scheduler.IScheduleGroup;
  readonly alarmAction: cloudwatch.IAlarmAction;
  /** @default pollerGroupMemoryMb(chains.length) */
  readonly memorySize?: number;
}

/**
 * The construct id of a group's poller. A chain in no group keeps the id its poller had before groups existed
 * (`Chain-<id>`): its function, role and named alarms keep their logical ids, so upgrading a stack does not
 * replace them (a replaced alarm would clash with its own name). A group of several chains is `Group-<id>`.
 */
export function pollerGroupConstructId(group: PollerGroupConfig): string {
  return group.chains.length === 1 && group.chains[0] === group.id ? `Chain-${group.id}` : `Group-${group.id}`;
}

/**
 * One poller function for a group of chains (reserved concurrency 1, so two runs never poll the same chain at once),
 * a one-minute EventBridge Scheduler schedule that invokes it with `{"chains": [...]}`, the group's
 * errors/throttles/duration alarms and a dead-man alarm per chain. Its role holds the union of its chains' table
 * grants: every chain in a group can be blinded by that one role (SECURITY.md, "Poller groups").
 */
export class PollerGroup extends Construct {
  readonly poller: BreakerFunction;
  readonly schedule: scheduler.Schedule;
  readonly alarms: PollerAlarms;

  constructor(scope: Construct, id: string, props: PollerGroupProps) {
    super(scope, id);
    const { group, chains } = props;
    const chainIds = chains.map((c) => c.id);
    const watched = chainIds.join(', ');

    this.poller = new BreakerFunction(this, 'Poller', {
      handler: 'poll-chain',
      description: `hot-wallet-breaker ${props.deploymentName}: watch ${watched} hot-wallet outflows`,
      configFile: props.configFile,
      serviceName: props.serviceName,
      timeout: POLLER_TIMEOUT,
      memorySize: props.memorySize ?? pollerGroupMemoryMb(chains.length),
      reservedConcurrentExecutions: 1,
    });
    props.table.grant(
      this.poller,
      unionTableAccess(
        chains.map((c) => TABLE_ACCESS.poller(c.id, { readsApprovedOutpoints: c.kind.spendsOutpoints === true })),
      ),
    );
    props.pages.grantPublish(this.poller);
    // A poller trips but never resumes: it may engage the kill-switch layers, not release them.
    props.killSwitch.grantMirror(this.poller, 'engage');

    // A failed or stale tick is not retried: the next tick comes within a minute and the alarms page meanwhile.
    this.poller.function.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: Duration.seconds(60) });

    // Its own role, invoking this function only: the target's default grant would also allow every version (`:*`).
    const schedulerRole = new iam.Role(this, 'SchedulerRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
      description: `EventBridge Scheduler: invoke the ${group.id} poller`,
    });
    schedulerRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'InvokePoller',
        actions: ['lambda:InvokeFunction'],
        resources: [this.poller.function.functionArn],
      }),
    );

    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      description: `hot-wallet-breaker ${props.deploymentName}: poll ${watched} every minute`,
      scheduleGroup: props.scheduleGroup,
      schedule: scheduler.ScheduleExpression.rate(Duration.minutes(1)),
      timeWindow: scheduler.TimeWindow.off(),
      target: new targets.LambdaInvoke(this.poller.function, {
        role: schedulerRole.withoutPolicyUpdates(),
        input: scheduler.ScheduleTargetInput.fromObject({ chains: chainIds }),
        retryAttempts: 2,
        maxEventAge: Duration.seconds(60),
      }),
    });

    this.alarms = new PollerAlarms(this, 'Alarms', {
      deploymentName: props.deploymentName,
      poller: group.id,
      chains,
      function: this.poller.function,
      timeout: POLLER_TIMEOUT,
      serviceName: props.serviceName,
      action: props.alarmAction,
    });
  }
}
