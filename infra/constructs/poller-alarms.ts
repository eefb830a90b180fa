import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import type { ChainKind } from '../../functions/core/chain-kind.ts';
import { POLLER_METRICS } from '../../functions/handlers/poller-metrics.ts';
import { METRICS_NAMESPACE } from './breaker-function.ts';

/** Consecutive silent minutes before the dead-man pages: with CloudWatch's evaluation lag, within 5 minutes. */
export const DEAD_MAN_MINUTES = 3;

/** What the dead-man alarm of one chain needs to know about it. */
export interface DeadManChain {
  readonly id: string;
  /** The chain's kind: how much slack the dead-man allows. */
  readonly kind: ChainKind;
  readonly blockTimeSeconds: number;
  readonly confirmations: number;
}

export interface PollerAlarmsProps {
  readonly deploymentName: string;
  /** The poller's name in its alarms: its group's (a chain in no group is a group named after it). */
  readonly poller: string;
  /** The chains it polls: a dead-man alarm each. */
  readonly chains: readonly DeadManChain[];
  readonly function: lambda.IFunction;
  readonly timeout: Duration;
  /** The Powertools service name: Powertools adds it as the `service` dimension of every metric. */
  readonly serviceName: string;
  readonly action: cloudwatch.IAlarmAction;
}

/**
 * A poller that is not polling is a blind spot, so every way it can stop pages: it throws (a chain unreadable, a page
 * not published) or times out (Errors), it is starved of concurrency (Throttles), its loop overruns the margin it
 * keeps before the deadline (Duration), or one of its chains stops reporting or falls behind (that chain's dead-man).
 */
export class PollerAlarms extends Construct {
  readonly errors: cloudwatch.Alarm;
  readonly throttles: cloudwatch.Alarm;
  readonly duration: cloudwatch.Alarm;
  /** Per chain id. */
  readonly deadMan: ReadonlyMap<string, cloudwatch.Alarm>;

  constructor(scope: Construct, id: string, props: PollerAlarmsProps) {
    super(scope, id);
    const name = props.poller;
    const label = `${props.deploymentName} ${name} poller`;
    const ids = props.chains.map((c) => c.id);
    const unwatched =
      ids.length === 1
        ? `outflows on ${ids[0]} are not being watched`
        : `outflows on at least one of ${ids.join(', ')} are not being watched (the error names which)`;

    this.errors = new cloudwatch.Alarm(this, 'Errors', {
      alarmName: `${label}: failing`,
      alarmDescription: `The ${name} poller threw or timed out: ${unwatched}. Check its logs; the breaker is blind until it recovers.`,
      metric: props.function.metricErrors({ period: Duration.minutes(1), statistic: 'Sum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    // Runs end a few seconds before the next tick, so an overlap (scheduler jitter) is rare and retried by Lambda's
    // async queue; sustained throttling means the reserved concurrency was lowered or the account ran out.
    this.throttles = new cloudwatch.Alarm(this, 'Throttles', {
      alarmName: `${label}: throttled`,
      alarmDescription: `The ${name} poller is being throttled (reserved concurrency set to 0, or account concurrency exhausted): polls are delayed or dropped.`,
      metric: props.function.metricThrottles({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 5,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    const nearTimeoutMs = Math.floor(props.timeout.toMilliseconds() * 0.95);
    this.duration = new cloudwatch.Alarm(this, 'Duration', {
      alarmName: `${label}: near timeout`,
      alarmDescription: `The ${name} poller's runs end within 5% of the ${props.timeout.toSeconds()} s timeout: a poll (RPC call, page) overran the margin the loop keeps. The next overrun is a timeout.`,
      metric: props.function.metricDuration({ period: Duration.minutes(1), statistic: 'Maximum' }),
      threshold: nearTimeoutMs,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    this.deadMan = new Map(props.chains.map((chain) => [chain.id, this.deadManAlarm(props, chain)]));

    for (const alarm of [this.errors, this.throttles, this.duration, ...this.deadMan.values()]) {
      alarm.addAlarmAction(props.action);
      alarm.addOkAction(props.action);
    }
  }

  private deadManAlarm(props: PollerAlarmsProps, chain: DeadManChain): cloudwatch.Alarm {
    const maxAge = deadManAgeSeconds(chain);
    // A chain's own poller (named after it) keeps the construct id its alarm had before groups existed.
    return new cloudwatch.Alarm(this, chain.id === props.poller ? 'DeadMan' : `DeadMan-${chain.id}`, {
      alarmName: `${props.deploymentName} ${chain.id} poller: stopped (dead-man)`,
      alarmDescription:
        `No LastProcessedBlockAgeSeconds from the ${chain.id} poller for ${DEAD_MAN_MINUTES} minutes, or the last processed block is older than ${maxAge} s: ` +
        `the poller is not running (schedule disabled, function deleted or broken) or is falling behind the chain. The breaker is blind on ${chain.id}.`,
      metric: new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName: POLLER_METRICS.lastProcessedBlockAge,
        dimensionsMap: { service: props.serviceName, Chain: chain.id },
        period: Duration.minutes(1),
        statistic: 'Maximum',
      }),
      threshold: maxAge,
      evaluationPeriods: DEAD_MAN_MINUTES,
      datapointsToAlarm: DEAD_MAN_MINUTES,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      // A poller that stops emits nothing: silence is the failure this alarm exists for.
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
  }
}

/**
 * How old the last processed block may get before the poller counts as falling behind. Normal age is about
 * (confirmations + 1) block times plus one poll interval; the slack is the kind's (generous for Bitcoin, whose block
 * intervals are exponential: an hour without a block is routine), and at least two minutes everywhere.
 */
export function deadManAgeSeconds(chain: { kind: ChainKind; blockTimeSeconds: number; confirmations: number }): number {
  const slack = chain.kind.deadManSlackBlocks * chain.blockTimeSeconds;
  return Math.ceil(chain.confirmations * chain.blockTimeSeconds + Math.max(120, slack));
}
