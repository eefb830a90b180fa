import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Annotations, CfnOutput, Stack, type StackProps, Stage } from 'aws-cdk-lib';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type { Construct } from 'constructs';
import type { BreakerConfig } from '../../functions/core/config/types.ts';
import { BreakerInitialisation } from '../constructs/breaker-initialisation.ts';
import { BreakerTable } from '../constructs/breaker-table.ts';
import { KillSwitch } from '../constructs/kill-switch.ts';
import { OpsConsole } from '../constructs/ops-console.ts';
import { PageTopic } from '../constructs/page-topic.ts';
import { PollerGroup, pollerGroupConstructId } from '../constructs/poller-group.ts';
import { ResetEndpoint } from '../constructs/reset-endpoint.ts';
import { TamperAlerts } from '../constructs/tamper-alerts.ts';

export interface BreakerStackProps extends StackProps {
  /** The validated config; every function receives it, serialised, inside its bundle. */
  readonly config: BreakerConfig;
}

/**
 * One breaker deployment, built from one config: a poller per group of chains (config `pollerGroups`; by default
 * one per chain), the table, the page topic, the kill switch
 * (state item + SSM mirror + signer policy), the reset and status endpoints, and the alarms.
 */
export class BreakerStack extends Stack {
  readonly config: BreakerConfig;
  readonly table: BreakerTable;
  readonly pages: PageTopic;
  readonly killSwitch: KillSwitch;
  /** Per poller group id. */
  readonly pollers: ReadonlyMap<string, PollerGroup>;
  readonly endpoint: ResetEndpoint;
  readonly opsConsole: OpsConsole;
  readonly tamperAlerts: TamperAlerts;
  readonly initialisation: BreakerInitialisation;
  /** Where the serialised config was written for bundling. */
  readonly configFile: string;

  constructor(scope: Construct, id: string, props: BreakerStackProps) {
    super(scope, id, {
      description: `hot-wallet-breaker ${props.config.name}: on-chain outflow circuit breaker for exchange hot wallets`,
      ...props,
    });
    const { config } = props;
    this.config = config;
    const name = config.name;
    // Also the `service` dimension of every metric, so two deployments in one account never share a metric.
    const serviceName = `hot-wallet-breaker-${name}`;
    this.configFile = writeBundledConfig(Stage.of(this)?.outdir ?? '.', this.stackName, config);

    this.table = new BreakerTable(this, 'Store');
    this.pages = new PageTopic(this, 'Pages', { deploymentName: name, subscriptions: config.pages.subscriptions });
    if (config.pages.subscriptions.length === 0) {
      Annotations.of(this.pages).addWarningV2(
        'hot-wallet-breaker:no-subscriptions',
        'pages.subscriptions is empty: nobody is paged until something subscribes to the page topic.',
      );
    }
    this.killSwitch = new KillSwitch(this, 'KillSwitch', {
      deploymentName: name,
      table: this.table,
      actuators: config.actuators,
    });

    const scheduleGroup = new scheduler.ScheduleGroup(this, 'Schedules', {
      scheduleGroupName: `hot-wallet-breaker-${name}`,
    });
    const pollers = new Map<string, PollerGroup>();
    for (const group of config.pollerGroups) {
      pollers.set(
        group.id,
        new PollerGroup(this, pollerGroupConstructId(group), {
          deploymentName: name,
          group,
          chains: group.chains.map((id) => config.chains.get(id)!),
          configFile: this.configFile,
          serviceName,
          table: this.table,
          pages: this.pages,
          killSwitch: this.killSwitch,
          scheduleGroup,
          alarmAction: this.pages.alarmAction,
        }),
      );
    }
    this.pollers = pollers;

    this.endpoint = new ResetEndpoint(this, 'Operators', {
      deploymentName: name,
      configFile: this.configFile,
      serviceName,
      table: this.table,
      pages: this.pages,
      killSwitch: this.killSwitch,
    });
    this.opsConsole = new OpsConsole(this, 'Console', {
      deploymentName: name,
      configFile: this.configFile,
      serviceName,
      table: this.table,
      pages: this.pages,
      killSwitch: this.killSwitch,
      operatorPolicy: this.endpoint.operatorPolicy,
      auditTrail: this.endpoint.auditTrail,
    });

    this.initialisation = new BreakerInitialisation(this, 'Init', {
      deploymentName: name,
      configFile: this.configFile,
      serviceName,
      table: this.table,
      pages: this.pages,
      killSwitch: this.killSwitch,
    });

    const flushers = [
      this.initialisation.initialiser,
      ...[...pollers.values()].map((p) => p.poller),
      this.endpoint.reset,
      this.endpoint.resetDirect,
      this.opsConsole.api,
    ];
    this.tamperAlerts = new TamperAlerts(this, 'TamperAlerts', {
      deploymentName: name,
      pages: this.pages,
      functions: [...flushers, this.endpoint.status].map((f) => f.function),
      scheduleGroup,
      killSwitchParameter: this.killSwitch.parameter,
      parameterWriters: flushers.map((f) => f.role),
      trail: { name: this.endpoint.auditTrailName, arn: this.endpoint.auditTrail.trailArn },
    });

    const out = (id: string, value: string, description: string, exportName?: string) =>
      new CfnOutput(this, id, { value, description, exportName });
    out('TableName', this.table.table.tableName, 'Breaker table (state item pk=BREAKER, sk=STATE)');
    out('PageTopicArn', this.pages.topic.topicArn, 'SNS topic that pages on-call');
    out('KillSwitchParameterName', this.killSwitch.parameter.parameterName, 'SSM mirror of the breaker state');
    out(
      'SignerPolicyArn',
      this.killSwitch.signerPolicy.managedPolicyArn,
      'Managed policy for signing services: read the kill switch',
      `${this.stackName}-SignerPolicyArn`,
    );
    out(
      'OperatorPolicyArn',
      this.endpoint.operatorPolicy.managedPolicyArn,
      'Managed policy for operators: status and reset',
    );
    out(
      'ResetFunctionName',
      this.endpoint.reset.function.functionName,
      'Reset through its function URL only (breaker reset --stack)',
    );
    out(
      'BreakGlassResetFunctionName',
      this.endpoint.resetDirect.function.functionName,
      'Break-glass reset from the Lambda console (Test tab) or aws lambda invoke; recorded as the request id',
    );
    out('ResetFunctionUrl', this.endpoint.resetUrl.url, 'Reset with a SigV4-signed POST (AWS_IAM)');
    out('StatusFunctionUrl', this.endpoint.statusUrl.url, 'Breaker state with a SigV4-signed GET (AWS_IAM)');
    out('ConsoleUrl', this.opsConsole.url.url, 'Ops console (AWS_IAM): open with `breaker console --stack <name>`');
    out(
      'ResetAuditLogGroup',
      this.endpoint.auditLogGroup.logGroupName,
      'CloudTrail Invoke events of the reset, break-glass reset and console functions',
    );
  }
}

/**
 * Serialise the validated config where bundling can copy it from. The file name carries a content hash so two
 * stacks or two configs never share a file; the bundle's asset hash covers its content, so a config change
 * redeploys the functions.
 */
function writeBundledConfig(outdir: string, stackName: string, config: BreakerConfig): string {
  const json = `${JSON.stringify(config.source, null, 2)}\n`;
  const digest = createHash('sha256').update(json).digest('hex').slice(0, 16);
  const dir = resolve(outdir);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `breaker-config.${stackName}.${digest}.json`);
  writeFileSync(file, json);
  return file;
}
