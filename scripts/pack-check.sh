#!/bin/sh
# The published package works for a signer: `npm pack` (which builds dist/ through prepack), install
# the tarball into an empty project, import every entry point under plain Node (no tsx), type-check
# a consumer against the shipped .d.ts, and make sure none of the heavy tools came along.
#
#   sh scripts/pack-check.sh        (npm run pack-check)
#
# Needs the npm registry or a warm npm cache for the package's few dependencies (zod, jose, yaml and
# the DynamoDB client peers).
set -eu

repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/breaker-pack-check.XXXXXX")
trap 'rm -rf "$work"' EXIT

node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 22 ] || { echo "pack-check: Node 22 or newer required, got $(node -v)" >&2; exit 1; }

echo "pack-check: npm pack"
tarball=$(cd "$repo" && npm pack --silent --pack-destination "$work" | tail -n 1)
tar -tzf "$work/$tarball" > "$work/contents.txt"
if grep -E '\.ts$' "$work/contents.txt" | grep -vE '\.d\.ts$' > "$work/ts-files.txt"; then
  echo "pack-check: the tarball ships TypeScript sources Node cannot run from node_modules:" >&2
  cat "$work/ts-files.txt" >&2
  exit 1
fi

mkdir "$work/consumer"
cd "$work/consumer"
printf '{ "name": "consumer", "private": true, "type": "module" }\n' > package.json
echo "pack-check: npm install $tarball into an empty project"
npm install --no-audit --no-fund --prefer-offline --loglevel=error "$work/$tarball" > /dev/null

for heavy in aws-cdk-lib constructs cdk-nag @foundry-rs/anvil dynalite tsx ecpair @bitcoinerlab/secp256k1 ethers; do
  if [ -e "node_modules/$heavy" ]; then
    echo "pack-check: node_modules holds $heavy, which a signer must not install" >&2
    exit 1
  fi
done

echo "pack-check: node_modules is $(du -sk node_modules | cut -f1) KiB"
if node node_modules/hot-wallet-breaker/bin/breaker.mjs help > /dev/null 2> breaker.err || ! grep -q 'runs from a clone' breaker.err; then
  echo "pack-check: the installed breaker command should point to a clone, not fail obscurely:" >&2
  cat breaker.err >&2
  exit 1
fi

echo "pack-check: import every entry point under plain node"
cat > imports.mjs <<'EOF'
const expected = {
  'hot-wallet-breaker': ['createBreakerGuard', 'breakerGuard', 'createKillSwitch', 'isWithdrawalHalted', 'createGuardHttpHandler'],
  'hot-wallet-breaker/middleware': ['breakerGuard'],
  'hot-wallet-breaker/http': ['createGuardHttpHandler', 'guardHttpListener', 'guardFunctionUrlHandler'],
  'hot-wallet-breaker/protocol': ['parseKillSwitchWebhook', 'verifySignature', 'signBody'],
  'hot-wallet-breaker/dynamodb': ['DynamoDbBreakerStore'],
  'hot-wallet-breaker/config': ['loadConfigFile', 'parseConfigText'],
  'hot-wallet-breaker/custody': ['createFireblocksCallback', 'createCoboCallback', 'createBitgoPolicy', 'custodyListener'],
  'hot-wallet-breaker/types': [],
};
for (const [specifier, names] of Object.entries(expected)) {
  const mod = await import(specifier);
  const missing = names.filter((n) => typeof mod[n] !== 'function');
  if (missing.length > 0) throw new Error(`${specifier}: missing ${missing.join(', ')}`);
  console.log(`  ${specifier}: ${Object.keys(mod).length} exports`);
}
EOF
node imports.mjs

echo "pack-check: run the installed guard and a custody callback under plain node"
cat > breaker.yaml <<'EOF'
name: pack-check
chains:
  ethereum:
    kind: evm
    chainId: 1
    rpc: [https://rpc.invalid]
    confirmations: 12
    blockTimeSeconds: 12
    hotWallets: ['0x70997970c51812dc3a010c7d01b50e0d17dc79c8']
    native: { symbol: ETH, decimals: 18, usdPrice: 2000 }
limits: { global: { usd: { 1h: 1000000 } } }
EOF
cat > run.mjs <<'EOF'
import { generateKeyPairSync } from 'node:crypto';
import { createBreakerGuard, isWithdrawalHalted } from 'hot-wallet-breaker';
import { loadConfigFile } from 'hot-wallet-breaker/config';
import { createFireblocksCallback } from 'hot-wallet-breaker/custody';

const config = loadConfigFile('breaker.yaml');
// A breaker that was never initialised: the guard must refuse (fail closed), never approve.
const store = {
  getState: async () => ({ schema: 1, version: 0, tripped: {} }),
  unreleasedTrips: async () => [],
  recordApprovedWithdrawal: async () => {
    throw new Error('an uninitialised breaker recorded an approval');
  },
  approvedWithdrawalsBetween: async () => [],
};
const quiet = { warn() {}, error() {} };
const guard = createBreakerGuard({ store, config, logger: quiet });
const withdrawal = {
  withdrawalId: 'w-1',
  chain: 'ethereum',
  asset: 'ETH',
  destination: '0x2222222222222222222222222222222222222222',
  amount: 1n,
};
const refused = await guard.check(withdrawal).then(() => false, (e) => isWithdrawalHalted(e));
if (!refused) throw new Error('the guard did not refuse on an uninitialised breaker');

const pem = (key, type) => key.export({ type, format: 'pem' }).toString();
const cosigner = generateKeyPairSync('rsa', { modulusLength: 2048 });
const callback = generateKeyPairSync('rsa', { modulusLength: 2048 });
const handler = await createFireblocksCallback({
  store,
  config,
  settings: {
    pathPrefix: '',
    timeoutMs: 5000,
    onFault: 'REJECT',
    operations: ['TRANSFER'],
    configChanges: 'REJECT',
    assets: { ETH: { chain: 'ethereum', asset: 'ETH', decimals: 18 } },
  },
  cosignerPublicKeyPem: pem(cosigner.publicKey, 'spki'),
  callbackPrivateKeyPem: pem(callback.privateKey, 'pkcs8'),
  logger: quiet,
});
const forged = await handler({ method: 'POST', path: '/v2/tx_sign_request', headers: {}, body: '{"requestId":"r"}' });
if (forged.status !== 401) throw new Error(`an unsigned co-signer request got HTTP ${forged.status}`);
console.log('  the guard refused on an uninitialised breaker; the Fireblocks callback refused an unsigned request');
EOF
node run.mjs

echo "pack-check: type-check a consumer against the shipped declarations"
cat > consumer.ts <<'EOF'
import { createBreakerGuard, type BreakerGuard } from 'hot-wallet-breaker';
import { breakerGuard } from 'hot-wallet-breaker/middleware';
import { createGuardHttpHandler } from 'hot-wallet-breaker/http';
import { parseKillSwitchWebhook } from 'hot-wallet-breaker/protocol';
import { DynamoDbBreakerStore } from 'hot-wallet-breaker/dynamodb';
import { loadConfigFile } from 'hot-wallet-breaker/config';
import { createFireblocksCallback, type CustodyHandler } from 'hot-wallet-breaker/custody';
import type { Approval, BreakerConfig, WithdrawalRequest } from 'hot-wallet-breaker/types';

// Each check fails to compile if the type did not resolve (became any).
type IsAny<T> = 0 extends 1 & T ? true : false;
const resolved: [
  IsAny<BreakerGuard>, IsAny<Approval>, IsAny<BreakerConfig>, IsAny<WithdrawalRequest>, IsAny<CustodyHandler>,
  IsAny<typeof createBreakerGuard>, IsAny<typeof breakerGuard>, IsAny<typeof createGuardHttpHandler>,
  IsAny<typeof parseKillSwitchWebhook>, IsAny<typeof DynamoDbBreakerStore>, IsAny<typeof loadConfigFile>,
  IsAny<typeof createFireblocksCallback>,
] = [false, false, false, false, false, false, false, false, false, false, false, false];
const request: WithdrawalRequest = { withdrawalId: 'w-1', chain: 'ethereum', asset: 'USDT', destination: '0x0', amount: 1n };
export { resolved, request };
EOF
node "$repo/node_modules/typescript/bin/tsc" --noEmit --strict --target ES2023 --module nodenext \
  --moduleResolution nodenext --skipLibCheck --types node --typeRoots "$repo/node_modules/@types" consumer.ts

echo "pack-check: ok ($tarball, $(wc -l < "$work/contents.txt") files)"
