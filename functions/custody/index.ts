/**
 * Custody platforms' pre-sign callbacks answered by the guard (docs/CUSTODY.md): the Fireblocks API
 * Co-signer callback, Cobo WaaS callbacks and a BitGo webhook policy rule. Each is a transport-free
 * handler; serve it with `custodyListener` (node:http) or `custodyFunctionUrlHandler` (Lambda).
 */
export { BITGO_PATH, type BitgoPolicyOptions, createBitgoPolicy } from './bitgo.ts';
export { type CoboCallbackOptions, createCoboCallback } from './cobo.ts';
export {
  createFireblocksCallback,
  FIREBLOCKS_CONFIG_CHANGE_PATH,
  FIREBLOCKS_TX_PATH,
  type FireblocksAction,
  type FireblocksCallbackOptions,
} from './fireblocks.ts';
export {
  type CustodyHandler,
  type CustodyRequest,
  type CustodyResponse,
  custodyFunctionUrlHandler,
  custodyListener,
} from './transport.ts';
