import { Duration, Stack } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import { Construct } from 'constructs';
import type { ChainConfig } from '../../functions/core/config/types.ts';
import { BreakerFunction } from './breaker-function.ts';
import type { BreakerTable } from './breaker-table.ts';
import type { KillSwitch } from './kill-switch.ts';
import type { PageTopic } from './page-topic.ts';
import { PollerAlarms } from './poller-alarms.ts';
import { POLLER_MEMORY_MB } from './poller-memory.ts';
import { POLLER_TIMEOUT } from './poller-timing.ts';
import { TABLE_ACCESS } from './table-access.ts';

export interface ChainPollerProps {
  readonly deploymentName: string;
  readonly chain: ChainConfig;
  readonly configFile: string;
  readonly serviceName: string;
  readonly table: BreakerTable;
  readonly pages: PageTopic;
  readonly killSwitch: KillSwitch;
  readonly scheduleGroup: scheduler.IScheduleGroup;
  readonly alarmAction: cloudwatch.IAlarmAction;
  /** @default POLLER_MEMORY_MB */
  readonly memorySize?: number;
}

/**
 * One chain's watcher: its own poll-chain function (reserved concurrency 1, so two runs never poll the same chain
 * at once and one chain's load cannot starve another's), a one-minute EventBridge Scheduler schedule that invokes
 * it with `{"chain": id}`, and the alarms that page when it fails, stalls or stops.
 */
export class ChainPoller extends Construct {
  readonly poller: BreakerFunction;
  readonly schedule: scheduler.Schedule;
  readonly alarms: PollerAlarms;

  constructor(scope: Construct, id: string, props: ChainPollerProps) {
    super(scope, id);
    const { chain } = props;

    this.poller = new BreakerFunction(this, 'Poller', {
      handler: 'poll-chain',
      description: `hot-wallet-breaker ${props.deploymentName}: watch ${chain.id} hot-wallet outflows`,
      configFile: props.configFile,
      serviceName: props.serviceName,
      timeout: POLLER_TIMEOUT,
      memorySize: props.memorySize ?? POLLER_MEMORY_MB,
      reservedConcurrentExecutions: 1,
    });
    props.table.grant(
      this.poller,
      TABLE_ACCESS.poller(chain.id, { readsApprovedOutpoints: chain.kind.spendsOutpoints === true }),
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
      description: `EventBridge Scheduler: invoke the ${chain.id} poller`,
    });
    schedulerRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'InvokePoller',
        actions: ['lambda:InvokeFunction'],
        resources: [this.poller.function.functionArn],
      }),
    );

    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      description: `hot-wallet-breaker ${props.deploymentName}: poll ${chain.id} every minute`,
      scheduleGroup: props.scheduleGroup,
      schedule: scheduler.ScheduleExpression.rate(Duration.minutes(1)),
      timeWindow: scheduler.TimeWindow.off(),
      target: new targets.LambdaInvoke(this.poller.function, {
        role: schedulerRole.withoutPolicyUpdates(),
        input: scheduler.ScheduleTargetInput.fromObject({ chain: chain.id }),
        retryAttempts: 2,
        maxEventAge: Duration.seconds(60),
      }),
    });

    this.alarms = new PollerAlarms(this, 'Alarms', {
      deploymentName: props.deploymentName,
      chain: chain.id,
      kind: chain.kind,
      blockTimeSeconds: chain.blockTimeSeconds,
      confirmations: chain.confirmations,
      function: this.poller.function,
      timeout: POLLER_TIMEOUT,
      serviceName: props.serviceName,
      action: props.alarmAction,
    });
  }
}
