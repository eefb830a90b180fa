// Compiles the test contracts with solc (npm, wasm) and writes artifacts/<Contract>.json (abi + bytecode).
// The artifacts are committed so nothing at runtime needs solc; run this after editing a .sol file.
//   node functions/local/contracts/compile.mjs           write the artifacts
//   node functions/local/contracts/compile.mjs --check   fail if the committed artifacts are stale
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import solc from 'solc';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const sources = ['TestToken.sol', 'Disperse.sol', 'RevertOnReceive.sol', 'LogEmitter.sol', 'ForwardingWallet.sol'];
const settings = {
  // Runs on every later fork anvil may default to.
  evmVersion: 'cancun',
  optimizer: { enabled: true, runs: 200 },
  // No metadata hash: the bytecode depends on the sources only, not on where they were compiled.
  metadata: { bytecodeHash: 'none' },
  outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
};

function findImports(path) {
  try {
    return { contents: readFileSync(require.resolve(path), 'utf8') };
  } catch {
    return { error: `not found: ${path}` };
  }
}

const input = {
  language: 'Solidity',
  sources: Object.fromEntries(sources.map((s) => [s, { content: readFileSync(join(here, s), 'utf8') }])),
  settings,
};
const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
const errors = (output.errors ?? []).filter((e) => e.severity === 'error');
for (const e of output.errors ?? []) console.error(e.formattedMessage);
if (errors.length > 0) process.exit(1);

const check = process.argv.includes('--check');
let stale = 0;
for (const source of sources) {
  for (const [name, contract] of Object.entries(output.contracts[source])) {
    const artifact = {
      contractName: name,
      sourceName: `functions/local/contracts/${source}`,
      compiler: { solc: solc.version(), evmVersion: settings.evmVersion, optimizerRuns: settings.optimizer.runs },
      abi: contract.abi,
      bytecode: `0x${contract.evm.bytecode.object}`,
    };
    const file = join(here, 'artifacts', `${name}.json`);
    const text = `${JSON.stringify(artifact, null, 2)}\n`;
    if (check) {
      let current = '';
      try {
        current = readFileSync(file, 'utf8');
      } catch {}
      if (JSON.stringify(JSON.parse(current || 'null')) !== JSON.stringify(artifact)) {
        console.error(`stale: artifacts/${name}.json (run node functions/local/contracts/compile.mjs)`);
        stale++;
      }
    } else {
      writeFileSync(file, text);
      console.log(`artifacts/${name}.json  ${(artifact.bytecode.length - 2) / 2} bytes`);
    }
  }
}
if (stale > 0) process.exit(1);
