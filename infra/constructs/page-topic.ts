import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import type { BreakerFunction } from './breaker-function.ts';

export interface PageSubscription {
  readonly protocol: 'email' | 'https' | 'sms';
  readonly endpoint: string;
}

export interface PageTopicProps {
  readonly deploymentName: string;
  /** From config `pages.subscriptions`, already validated for deployment. */
  readonly subscriptions: readonly PageSubscription[];
}

/**
 * The topic that pages on-call: KMS-encrypted, TLS-only, with the configured email / HTTPS (PagerDuty, Opsgenie) /
 * SMS subscriptions. Both the functions (trip, warn, blind, reset pages) and the CloudWatch alarms publish here.
 */
export class PageTopic extends Construct {
  readonly topic: sns.Topic;
  readonly key: kms.Key;
  /** Use as an alarm's ALARM and OK action. */
  readonly alarmAction: cloudwatch.IAlarmAction;

  constructor(scope: Construct, id: string, props: PageTopicProps) {
    super(scope, id);
    const { account, region, partition } = Stack.of(this);

    this.key = new kms.Key(this, 'Key', {
      description: 'hot-wallet-breaker page topic',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Alarms publish as the CloudWatch service, which must be able to use the topic's key.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
      }),
    );

    this.topic = new sns.Topic(this, 'Topic', {
      displayName: `${props.deploymentName} hot-wallet breaker`,
      masterKey: this.key,
      enforceSSL: true,
    });
    // A topic policy replaces SNS's default one, so CloudWatch alarms of this account are allowed explicitly.
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          ArnLike: { 'aws:SourceArn': `arn:${partition}:cloudwatch:${region}:${account}:alarm:*` },
          StringEquals: { 'aws:SourceAccount': account },
        },
      }),
    );

    for (const s of props.subscriptions) {
      this.topic.addSubscription(subscriptionFor(s));
    }
    this.alarmAction = new cwActions.SnsAction(this.topic);

    // A page that cannot be delivered is a silent breaker; say so through whichever subscription still works.
    const failed = new cloudwatch.Alarm(this, 'DeliveryFailed', {
      alarmName: `${props.deploymentName} breaker: page delivery failed`,
      alarmDescription:
        "SNS could not deliver a page to at least one subscription (endpoint down, unconfirmed email, SMS spend limit). Check the topic's subscriptions.",
      metric: this.topic.metricNumberOfNotificationsFailed({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    failed.addAlarmAction(this.alarmAction);
  }

  /** Allow the function to publish pages and set PAGE_TOPIC_ARN. */
  grantPublish(fn: BreakerFunction): void {
    fn.function.addEnvironment('PAGE_TOPIC_ARN', this.topic.topicArn);
    fn.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'PublishPages', actions: ['sns:Publish'], resources: [this.topic.topicArn] }),
    );
    fn.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'PageTopicKey',
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: [this.key.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `sns.${Stack.of(this).region}.amazonaws.com` } },
      }),
    );
  }
}

function subscriptionFor(s: PageSubscription): sns.ITopicSubscription {
  switch (s.protocol) {
    case 'email':
      return new subs.EmailSubscription(s.endpoint);
    case 'https':
      return new subs.UrlSubscription(s.endpoint, { protocol: sns.SubscriptionProtocol.HTTPS });
    case 'sms':
      return new subs.SmsSubscription(s.endpoint);
  }
}
