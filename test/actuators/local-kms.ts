/**
 * An in-memory KMS key store for the local AWS JSON 1.1 endpoint (test/support/local-aws-json.ts):
 * DescribeKey, DisableKey and EnableKey with KMS's target names (`TrentService.*`), response shapes
 * and errors (NotFoundException for an unknown key, KMSInvalidStateException for a key pending deletion).
 */
import { AwsJsonError, type AwsJsonHandlers, LOCAL_ACCOUNT, LOCAL_REGION } from '../support/local-aws-json.ts';

export interface LocalKey {
  state: 'Enabled' | 'Disabled' | 'PendingDeletion';
}

export function keyArn(keyId: string): string {
  return `arn:aws:kms:${LOCAL_REGION}:${LOCAL_ACCOUNT}:key/${keyId}`;
}

export function kmsKeyHandlers(keys: Map<string, LocalKey>): AwsJsonHandlers {
  const find = (body: Record<string, unknown>): [string, LocalKey] => {
    const raw = body.KeyId;
    if (typeof raw !== 'string' || raw === '') throw new AwsJsonError('ValidationException', 'KeyId is required');
    const id = raw.includes(':key/') ? raw.slice(raw.indexOf(':key/') + 5) : raw;
    const key = keys.get(id);
    if (!key) throw new AwsJsonError('NotFoundException', `Key '${keyArn(id)}' does not exist`);
    return [id, key];
  };
  const settable = (id: string, key: LocalKey) => {
    if (key.state === 'PendingDeletion') {
      throw new AwsJsonError('KMSInvalidStateException', `${keyArn(id)} is pending deletion.`);
    }
  };
  return {
    'TrentService.DescribeKey': (body) => {
      const [id, key] = find(body);
      return {
        KeyMetadata: {
          AWSAccountId: LOCAL_ACCOUNT,
          KeyId: id,
          Arn: keyArn(id),
          Enabled: key.state === 'Enabled',
          KeyState: key.state,
          KeyUsage: 'SIGN_VERIFY',
          KeySpec: 'ECC_SECG_P256K1',
          KeyManager: 'CUSTOMER',
          Origin: 'AWS_KMS',
        },
      };
    },
    'TrentService.DisableKey': (body) => {
      const [id, key] = find(body);
      settable(id, key);
      key.state = 'Disabled';
      return {};
    },
    'TrentService.EnableKey': (body) => {
      const [id, key] = find(body);
      settable(id, key);
      key.state = 'Enabled';
      return {};
    },
  };
}
