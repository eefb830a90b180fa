/**
 * Compiled test contracts (see compile.mjs): what the local demo and the tests deploy to anvil.
 * Committed as JSON so nothing at runtime needs solc.
 */
import type { JsonFragment } from 'ethers';
import disperse from './artifacts/Disperse.json' with { type: 'json' };
import forwardingWallet from './artifacts/ForwardingWallet.json' with { type: 'json' };
import logEmitter from './artifacts/LogEmitter.json' with { type: 'json' };
import revertOnReceive from './artifacts/RevertOnReceive.json' with { type: 'json' };
import testToken from './artifacts/TestToken.json' with { type: 'json' };

export interface ContractArtifact {
  readonly contractName: string;
  readonly abi: readonly JsonFragment[];
  /** Creation bytecode, 0x-prefixed. */
  readonly bytecode: string;
}

/** ERC-20 with `constructor(name, symbol, decimals)` and an open `mint(to, amount)`. */
export const TestToken: ContractArtifact = testToken;
/** `disperseToken(token, recipients, values)` (transferFrom the caller) and `disperseEther(recipients, values)`. */
export const Disperse: ContractArtifact = disperse;
/** Reverts on every call and payment. */
export const RevertOnReceive: ContractArtifact = revertOnReceive;
/** `emitLog(topics, data)`: emits any log with up to four topics. */
export const LogEmitter: ContractArtifact = logEmitter;
/** A contract hot wallet: `send(recipients, amounts)` by internal calls, `sendThenRevert`, `trySend` (owner only). */
export const ForwardingWallet: ContractArtifact = forwardingWallet;
