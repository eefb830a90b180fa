import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudtrail from 'aws-cdk-lib/aws-cloudtrail';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import { BreakerFunction } from './breaker-function.ts';
import type { BreakerTable } from './breaker-table.ts';
import type { KillSwitch } from './kill-switch.ts';
import type { PageTopic } from './page-topic.ts';
import { TABLE_ACCESS } from './table-access.ts';

export interface ResetEndpointProps {
  readonly deploymentName: string;
  readonly configFile: string;
  readonly serviceName: string;
  readonly table: BreakerTable;
  readonly pages: PageTopic;
  readonly killSwitch: KillSwitch;
}

/**
 * The statements that let a principal call `functionArns` through their AWS_IAM function URLs and in no other way.
 * Since October 2025 a new function URL needs `lambda:InvokeFunction` as well as `lambda:InvokeFunctionUrl`
 * (https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html); granting it only with
 * `lambda:InvokedViaFunctionUrl = true` (the condition CDK's own `grantInvokeUrl` uses) keeps a direct Invoke, whose
 * payload could carry a forged `requestContext`, out of reach.
 */
export function urlOnlyInvokeStatements(sid: string, functionArns: string[]): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({
      sid: `${sid}Url`,
      actions: ['lambda:InvokeFunctionUrl'],
      resources: functionArns,
      conditions: { StringEquals: { 'lambda:FunctionUrlAuthType': 'AWS_IAM' } },
    }),
    new iam.PolicyStatement({
      sid: `${sid}ViaUrlOnly`,
      actions: ['lambda:InvokeFunction'],
      resources: functionArns,
      conditions: { Bool: { 'lambda:InvokedViaFunctionUrl': 'true' } },
    }),
  ];
}

/**
 * How operators reach the breaker: `reset-breaker` (reason required) and the read-only `breaker-status`, each
 * through an IAM-authorised function URL only; the break-glass `reset-breaker-direct` for the Lambda console / CLI;
 * and the operator policy.
 *
 * The operator's identity always comes from AWS, never from the event: through a function URL the handler reads
 * the SigV4-verified caller ARN from the request context, and the policy allows no direct Invoke of those functions
 * (which could carry a made-up request context). The break-glass function cannot see its caller, so it records
 * `lambda-invoke:<awsRequestId>` and refuses any event with a request context; this construct's trail records every
 * Invoke of both reset functions (and, via OpsConsole, of the console) as a CloudTrail data event whose
 * `requestID` is that awsRequestId and whose `userIdentity` is the caller (searchable in CloudWatch Logs within
 * minutes; see docs/DEPLOY.md).
 */
export class ResetEndpoint extends Construct {
  readonly reset: BreakerFunction;
  readonly resetDirect: BreakerFunction;
  readonly status: BreakerFunction;
  readonly resetUrl: lambda.FunctionUrl;
  readonly statusUrl: lambda.FunctionUrl;
  readonly operatorPolicy: iam.ManagedPolicy;
  readonly auditTrail: cloudtrail.Trail;
  readonly auditTrailName: string;
  readonly auditLogGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ResetEndpointProps) {
    super(scope, id);

    this.reset = new BreakerFunction(this, 'Reset', {
      handler: 'reset-breaker',
      functionName: `${props.deploymentName}-reset-breaker`,
      description: `hot-wallet-breaker ${props.deploymentName}: reset the breaker (reason required, caller recorded)`,
      configFile: props.configFile,
      serviceName: props.serviceName,
      timeout: Duration.seconds(30),
    });
    props.table.grant(this.reset, TABLE_ACCESS.reset);
    props.pages.grantPublish(this.reset);
    props.killSwitch.grantMirror(this.reset, 'engage-and-release');

    this.resetDirect = new BreakerFunction(this, 'ResetDirect', {
      handler: 'reset-breaker-direct',
      functionName: `${props.deploymentName}-reset-breaker-direct`,
      description: `hot-wallet-breaker ${props.deploymentName}: break-glass reset by direct Invoke (reason required, recorded as the Lambda request id)`,
      configFile: props.configFile,
      serviceName: props.serviceName,
      timeout: Duration.seconds(30),
    });
    props.table.grant(this.resetDirect, TABLE_ACCESS.reset);
    props.pages.grantPublish(this.resetDirect);
    props.killSwitch.grantMirror(this.resetDirect, 'engage-and-release');

    this.status = new BreakerFunction(this, 'Status', {
      handler: 'breaker-status',
      functionName: `${props.deploymentName}-breaker-status`,
      description: `hot-wallet-breaker ${props.deploymentName}: breaker state (read-only)`,
      configFile: props.configFile,
      serviceName: props.serviceName,
      timeout: Duration.seconds(15),
    });
    props.table.grant(this.status, TABLE_ACCESS.status);

    this.resetUrl = this.reset.function.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.AWS_IAM });
    this.statusUrl = this.status.function.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.AWS_IAM });

    const functionArns = [this.reset.function.functionArn, this.status.function.functionArn];
    this.operatorPolicy = new iam.ManagedPolicy(this, 'OperatorPolicy', {
      managedPolicyName: `${props.deploymentName}-breaker-operator`,
      description:
        'Attach to on-call operators: read the breaker status and reset it through the SigV4 function URLs (recorded by IAM identity), or by the break-glass reset-breaker-direct function (recorded by Lambda request id and in CloudTrail).',
      statements: [
        ...urlOnlyInvokeStatements('CallBreakerFunctionUrls', functionArns),
        new iam.PolicyStatement({
          sid: 'BreakGlassReset',
          actions: ['lambda:InvokeFunction'],
          resources: [this.resetDirect.function.functionArn],
        }),
      ],
    });

    this.auditTrailName = `${props.deploymentName}-operator-audit`;
    const trail = this.createAuditTrail(this.auditTrailName);
    this.auditTrail = trail.trail;
    this.auditLogGroup = trail.logGroup;
  }

  /**
   * A trail that records only Lambda data events (Invoke) of the reset functions, to S3 and to CloudWatch Logs;
   * OpsConsole adds the console. A Lambda data resource names the function ARN
   * (https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_DataResource.html).
   */
  private createAuditTrail(trailName: string): { trail: cloudtrail.Trail; logGroup: logs.LogGroup } {
    const accessLogs = new s3.Bucket(this, 'AuditAccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    NagSuppressions.addResourceSuppressions(accessLogs, [
      {
        id: 'AwsSolutions-S1',
        reason:
          'This bucket receives the server access logs of the reset audit bucket; logging it to itself would loop.',
      },
    ]);
    const bucket = new s3.Bucket(this, 'AuditBucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'reset-audit/',
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const logGroup = new logs.LogGroup(this, 'AuditLogs', {
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const trail = new cloudtrail.Trail(this, 'AuditTrail', {
      trailName,
      bucket,
      sendToCloudWatchLogs: true,
      cloudWatchLogGroup: logGroup,
      // Write management events feed the tamper alerts (EventBridge gets "AWS API Call via CloudTrail" events
      // from a trail that logs them) and keep who changed a function or the parameter beyond the 90-day history.
      managementEvents: cloudtrail.ReadWriteType.WRITE_ONLY,
      includeGlobalServiceEvents: false,
      isMultiRegionTrail: false,
      enableFileValidation: true,
    });
    trail.addLambdaEventSelector([this.reset.function, this.resetDirect.function], { includeManagementEvents: false });
    return { trail, logGroup };
  }
}
