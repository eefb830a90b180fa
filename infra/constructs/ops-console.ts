import { fileURLToPath } from 'node:url';
import { Duration } from 'aws-cdk-lib';
import type * as cloudtrail from 'aws-cdk-lib/aws-cloudtrail';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { BreakerFunction } from './breaker-function.ts';
import type { BreakerTable } from './breaker-table.ts';
import type { KillSwitch } from './kill-switch.ts';
import type { PageTopic } from './page-topic.ts';
import { urlOnlyInvokeStatements } from './reset-endpoint.ts';
import { TABLE_ACCESS } from './table-access.ts';

/** Where the console page lands inside the bundle, and the variable that tells the handler. */
export const CONSOLE_ASSETS_BUNDLE_DIR = 'console-page';
export const CONSOLE_ASSETS_PATH = `/var/task/${CONSOLE_ASSETS_BUNDLE_DIR}`;
const PAGE_SOURCE = fileURLToPath(new URL('../../functions/console/page', import.meta.url));

export interface OpsConsoleProps {
  readonly deploymentName: string;
  readonly configFile: string;
  readonly serviceName: string;
  readonly table: BreakerTable;
  readonly pages: PageTopic;
  readonly killSwitch: KillSwitch;
  /** The operators' managed policy: it may call the console through its function URL only. */
  readonly operatorPolicy: iam.ManagedPolicy;
  /** The operator trail: it records every Invoke of the console (each one may reset, approve or trip). */
  readonly auditTrail: cloudtrail.Trail;
}

/**
 * The ops console of a deployment: one function serving the page and its API (status, evidence,
 * totals, chain health, history; reset, two-person approval, manual trip) behind an AWS_IAM
 * function URL. Lambda verifies the SigV4 signature before the handler runs, and the handler records
 * the verified principal for every action; a request without one is refused. Browsers reach it
 * through `breaker console --stack <name>`, which serves the same page on 127.0.0.1 and signs each
 * API call with the operator's own AWS credentials.
 */
export class OpsConsole extends Construct {
  readonly api: BreakerFunction;
  readonly url: lambda.FunctionUrl;

  constructor(scope: Construct, id: string, props: OpsConsoleProps) {
    super(scope, id);

    this.api = new BreakerFunction(this, 'Api', {
      handler: 'console-api',
      functionName: `${props.deploymentName}-ops-console`,
      description: `hot-wallet-breaker ${props.deploymentName}: ops console (page + API; IAM caller recorded on every action)`,
      configFile: props.configFile,
      serviceName: props.serviceName,
      // Totals over a 24 h window and a head probe per chain (2.5 s cap) fit well inside this.
      timeout: Duration.seconds(30),
      memorySize: 512,
      bundleDirectories: [{ from: PAGE_SOURCE, to: CONSOLE_ASSETS_BUNDLE_DIR }],
    });
    this.api.function.addEnvironment('CONSOLE_ASSETS_DIR', CONSOLE_ASSETS_PATH);
    props.table.grant(this.api, TABLE_ACCESS.console);
    props.pages.grantPublish(this.api);
    props.killSwitch.grantMirror(this.api, 'engage-and-release');

    this.url = this.api.function.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.AWS_IAM });

    // The handler trusts requestContext.authorizer.iam only because a direct Invoke is not granted (see
    // urlOnlyInvokeStatements); the trail keeps every invocation, however it came.
    props.operatorPolicy.addStatements(...urlOnlyInvokeStatements('UseOpsConsole', [this.api.function.functionArn]));
    props.auditTrail.addLambdaEventSelector([this.api.function], { includeManagementEvents: false });
  }
}
