import {
  DeleteParameterCommand,
  GetParameterCommand,
  ParameterAlreadyExists,
  ParameterNotFound,
  PutParameterCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AwsJsonError,
  type LocalAwsJson,
  localClientConfig,
  ssmParameterHandlers,
  startLocalAwsJson,
} from '../../support/local-aws-json.ts';

/** The stand-in is only useful if the real SDK reads its answers as it reads SSM's. */
describe('local AWS JSON 1.1 endpoint, with the real SSM client', () => {
  let aws: LocalAwsJson;
  let client: SSMClient;
  const disabledKeys: string[] = [];

  beforeAll(async () => {
    aws = await startLocalAwsJson({
      handlers: {
        ...ssmParameterHandlers(),
        'TrentService.DisableKey': (body) => {
          if (body.KeyId !== 'key-1')
            throw new AwsJsonError('NotFoundException', `Key '${String(body.KeyId)}' does not exist`);
          disabledKeys.push(body.KeyId);
          return {};
        },
      },
    });
    client = new SSMClient(localClientConfig(aws.endpoint));
  });
  afterAll(async () => {
    client?.destroy();
    await aws?.close();
  });

  it('routes on X-Amz-Target and returns the real response shapes', async () => {
    const put = await client.send(new PutParameterCommand({ Name: '/a/b', Value: 'v1', Type: 'String' }));
    expect(put).toMatchObject({ Version: 1, Tier: 'Standard' });

    const got = await client.send(new GetParameterCommand({ Name: '/a/b' }));
    expect(got.Parameter).toMatchObject({
      Name: '/a/b',
      Type: 'String',
      Value: 'v1',
      Version: 1,
      ARN: 'arn:aws:ssm:us-east-1:123456789012:parameter/a/b',
      DataType: 'text',
    });
    expect(got.Parameter?.LastModifiedDate).toBeInstanceOf(Date);
    expect(Math.abs(got.Parameter!.LastModifiedDate!.getTime() - Date.now())).toBeLessThan(60_000);

    const call = aws.callsTo('AmazonSSM.GetParameter').at(-1)!;
    expect(call.headers['content-type']).toBe('application/x-amz-json-1.1');
    expect(call.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDLOCAL\/\d{8}\/us-east-1\/ssm\//);
    expect(call.body).toEqual({ Name: '/a/b' });
  });

  it('errors arrive as the SDK’s modelled exception classes', async () => {
    const missing = await client.send(new GetParameterCommand({ Name: '/nope' })).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ParameterNotFound);
    expect(missing).toMatchObject({ $metadata: { httpStatusCode: 400 }, message: 'Parameter /nope not found.' });

    await client.send(new PutParameterCommand({ Name: '/x', Value: 'v', Type: 'String' }));
    const exists = await client
      .send(new PutParameterCommand({ Name: '/x', Value: 'w', Type: 'String' }))
      .catch((e: unknown) => e);
    expect(exists).toBeInstanceOf(ParameterAlreadyExists);
    expect(await client.send(new PutParameterCommand({ Name: '/x', Value: 'w', Overwrite: true }))).toMatchObject({
      Version: 2,
    });

    const tooLong = await client
      .send(new PutParameterCommand({ Name: '/x', Value: 'x'.repeat(4097), Overwrite: true }))
      .catch((e: unknown) => e);
    expect(tooLong).toMatchObject({ name: 'ValidationException', message: expect.stringMatching(/4096 characters/) });

    await client.send(new DeleteParameterCommand({ Name: '/x' }));
    await expect(client.send(new DeleteParameterCommand({ Name: '/x' }))).rejects.toBeInstanceOf(ParameterNotFound);
  });

  it('failNext injects a 500 that the SDK retries, then answers normally', async () => {
    await client.send(new PutParameterCommand({ Name: '/retry', Value: 'v', Type: 'String' }));
    aws.failNext('AmazonSSM.GetParameter', 1);
    const retrying = new SSMClient({ ...localClientConfig(aws.endpoint), maxAttempts: 2 });
    const before = aws.callsTo('AmazonSSM.GetParameter').length;
    const got = await retrying.send(new GetParameterCommand({ Name: '/retry' }));
    retrying.destroy();

    expect(got.Parameter?.Value).toBe('v');
    expect(
      aws
        .callsTo('AmazonSSM.GetParameter')
        .slice(before)
        .map((c) => c.status),
    ).toEqual([500, 200]);
  });

  it('serves other JSON 1.1 services from the same endpoint (KMS-shaped target)', async () => {
    const call = (keyId: string) =>
      fetch(aws.endpoint, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-amz-json-1.1',
          'x-amz-target': 'TrentService.DisableKey',
          authorization: 'AWS4-HMAC-SHA256 Credential=AKIDLOCAL/20261105/us-east-1/kms/aws4_request',
        },
        body: JSON.stringify({ KeyId: keyId }),
      });
    const ok = await call('key-1');
    expect(ok.status).toBe(200);
    expect(disabledKeys).toEqual(['key-1']);

    const missing = await call('key-2');
    expect(missing.status).toBe(400);
    expect(await missing.json()).toEqual({ __type: 'NotFoundException', message: "Key 'key-2' does not exist" });
  });

  it('an unknown target or an unsigned request is refused as AWS would', async () => {
    const unknown = await fetch(aws.endpoint, {
      method: 'POST',
      headers: { 'x-amz-target': 'AmazonSSM.Nope', authorization: 'AWS4-HMAC-SHA256 Credential=x' },
      body: '{}',
    });
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toMatchObject({ __type: 'UnknownOperationException' });

    const unsigned = await fetch(aws.endpoint, {
      method: 'POST',
      headers: { 'x-amz-target': 'AmazonSSM.GetParameter' },
      body: '{"Name":"/a/b"}',
    });
    expect(unsigned.status).toBe(403);
  });
});
