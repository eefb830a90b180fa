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

export interface ResetEndpointProps {
  readonly deploymentName: string;
  readonly configFile: string;
  readonly serviceName: string;
  readonly table: BreakerTable;
  readonly pages: PageTopic;
  readonly killSwitch: KillSwitch;
}

/**
 * How operators reach the breaker: `reset-breaker` (reason required) and the read-only `breaker-status`, each
 * invocable from the Lambda console / CLI and through an IAM-authorised function URL, plus the operator policy.
 *
 * The operator's identity always comes from AWS, never from the event: through the function URL the handler reads
 * the SigV4-verified caller ARN from the request context; a console or CLI invocation cannot see its caller, so the
 * handler records `lambda-invoke:<awsRequestId>` and this construct's trail records every Invoke of the reset
 * function as a CloudTrail data event whose `requestID` is that awsRequestId and whose `userIdentity` is the caller
 * (searchable in CloudWatch Logs within minutes; see docs/DEPLOY.md).
 */
export class ResetEndpoint extends Construct {
  readonly reset: BreakerFunction;
  readonly status: BreakerFunction;
  readonly resetUrl: lambda.FunctionUrl;
  readonly statusUrl: lambda.FunctionUrl;
  readonly operatorPolicy: iam.ManagedPolicy;
  readonly auditTrail: cloudtrail.Trail;
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
    props.table.grant(this.reset, ['GetItem', 'PutItem', 'UpdateItem', 'Query']);
    props.pages.grantPublish(this.reset);
    props.killSwitch.grantMirror(this.reset);

    this.status = new BreakerFunction(this, 'Status', {
      handler: 'breaker-status',
      functionName: `${props.deploymentName}-breaker-status`,
      description: `hot-wallet-breaker ${props.deploymentName}: breaker state (read-only)`,
      configFile: props.configFile,
      serviceName: props.serviceName,
      timeout: Duration.seconds(15),
    });
    props.table.grant(this.status, ['GetItem', 'Query']);

    this.resetUrl = this.reset.function.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.AWS_IAM });
    this.statusUrl = this.status.function.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.AWS_IAM });

    const functionArns = [this.reset.function.functionArn, this.status.function.functionArn];
    this.operatorPolicy = new iam.ManagedPolicy(this, 'OperatorPolicy', {
      managedPolicyName: `${props.deploymentName}-breaker-operator`,
      description:
        'Attach to on-call operators: read the breaker status and reset it (function URL with SigV4, Lambda console or CLI). Every reset is recorded with the caller.',
      statements: [
        new iam.PolicyStatement({
          sid: 'CallBreakerFunctionUrls',
          actions: ['lambda:InvokeFunctionUrl'],
          resources: functionArns,
          conditions: { StringEquals: { 'lambda:FunctionUrlAuthType': 'AWS_IAM' } },
        }),
        new iam.PolicyStatement({
          sid: 'InvokeBreakerFunctions',
          actions: ['lambda:InvokeFunction'],
          resources: functionArns,
        }),
      ],
    });

    const trail = this.createAuditTrail();
    this.auditTrail = trail.trail;
    this.auditLogGroup = trail.logGroup;
  }

  /** A trail that records only Lambda data events (Invoke) of the reset function, to S3 and to CloudWatch Logs. */
  private createAuditTrail(): { trail: cloudtrail.Trail; logGroup: logs.LogGroup } {
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
      bucket,
      sendToCloudWatchLogs: true,
      cloudWatchLogGroup: logGroup,
      // Management events are already in the account's event history; this trail exists for the reset Invokes only.
      managementEvents: cloudtrail.ReadWriteType.NONE,
      includeGlobalServiceEvents: false,
      isMultiRegionTrail: false,
      enableFileValidation: true,
    });
    trail.addLambdaEventSelector([this.reset.function], { includeManagementEvents: false });
    return { trail, logGroup };
  }
}
