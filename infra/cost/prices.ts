/**
 * AWS list prices, US East (N. Virginia), on-demand, before free tiers, credits or savings plans.
 *
 * Source: the public pricing pages — aws.amazon.com/lambda/pricing, /eventbridge/pricing (Scheduler),
 * /dynamodb/pricing/on-demand (after the 1 November 2024 on-demand reduction), /sns/pricing, /kms/pricing,
 * /cloudwatch/pricing, /xray/pricing, /cloudtrail/pricing — as published in 2025 (the `asOf` date below).
 * Prices change: re-check them before relying on a total, and update `asOf` when you do.
 */
export const PRICES = {
  asOf: '2025-07-01',
  region: 'us-east-1',
  /** Lambda, Arm (Graviton), first 7.5 billion GB-s per month tier. */
  lambdaArmPerGbSecond: 0.000_013_333_4,
  lambdaPerRequest: 0.2 / 1e6,
  /** EventBridge Scheduler, per invocation after the 14 million monthly free invocations. */
  schedulerPerInvocation: 1.0 / 1e6,
  /** DynamoDB on-demand, standard table class. */
  dynamoPerWriteRequestUnit: 0.625 / 1e6,
  dynamoPerReadRequestUnit: 0.125 / 1e6,
  dynamoStoragePerGbMonth: 0.25,
  dynamoPitrPerGbMonth: 0.2,
  /** SNS standard topic: API requests (publishes), and deliveries by protocol. */
  snsPerPublish: 0.5 / 1e6,
  snsPerEmail: 2.0 / 1e5,
  snsPerHttps: 0.6 / 1e6,
  /** Outbound SMS to a US number, base price per message; carrier fees are extra and vary. */
  snsPerSmsUs: 0.005_81,
  kmsPerKeyMonth: 1.0,
  kmsPerRequest: 0.03 / 1e4,
  cloudwatchPerAlarm: 0.1,
  cloudwatchPerCustomMetric: 0.3,
  cloudwatchLogsPerIngestedGb: 0.5,
  cloudwatchLogsPerStoredGbMonth: 0.03,
  xrayPerTraceRecorded: 5.0 / 1e6,
  cloudtrailPerDataEvent: 0.1 / 1e5,
} as const;

/** AWS bills monthly usage over 730 hours. */
export const HOURS_PER_MONTH = 730;
export const MINUTES_PER_MONTH = HOURS_PER_MONTH * 60;
