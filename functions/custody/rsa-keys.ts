import { createPrivateKey, createPublicKey } from 'node:crypto';
import { type CryptoKey, importPKCS8, importSPKI } from 'jose';

/** The co-signer callback key pair is RSA-2048 (Fireblocks: `openssl genrsa … 2048`); shorter keys are refused. */
const MIN_RSA_BITS = 2048;

/**
 * Import a PEM public key for RS256 verification. node:crypto only reads the PEM (SPKI, PKCS#1 or a
 * certificate) and re-encodes it as SPKI; jose imports it bound to RS256, so no other algorithm
 * can ever be checked against it.
 */
export async function importRs256PublicKey(pem: string, what: string): Promise<CryptoKey> {
  let key: ReturnType<typeof createPublicKey>;
  try {
    key = createPublicKey(pem);
  } catch (e) {
    throw new TypeError(`${what}: not a PEM public key (${(e as Error).message})`);
  }
  checkRsa(key, what);
  return importSPKI(key.export({ type: 'spki', format: 'pem' }).toString(), 'RS256');
}

/** Import a PEM private key (PKCS#8, or PKCS#1 as older `openssl genrsa` writes) for RS256 signing. */
export async function importRs256PrivateKey(pem: string, what: string): Promise<CryptoKey> {
  let key: ReturnType<typeof createPrivateKey>;
  try {
    key = createPrivateKey(pem);
  } catch (e) {
    throw new TypeError(`${what}: not a PEM private key (${(e as Error).message})`);
  }
  checkRsa(key, what);
  return importPKCS8(key.export({ type: 'pkcs8', format: 'pem' }).toString(), 'RS256');
}

function checkRsa(key: ReturnType<typeof createPublicKey>, what: string): void {
  if (key.asymmetricKeyType !== 'rsa') {
    throw new TypeError(`${what}: an RSA key is required, got ${key.asymmetricKeyType ?? 'an unknown key type'}`);
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_RSA_BITS) throw new TypeError(`${what}: RSA key of ${bits} bits, at least ${MIN_RSA_BITS} required`);
}
