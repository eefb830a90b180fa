/**
 * The Bitcoin tests' node is the local devnet the demo runs (functions/local/bitcoin-devnet.ts): one
 * implementation, re-exported under the names the tests use.
 */
export {
  BitcoinDevnet as BitcoinTestNode,
  type BitcoinDevnetOptions as BitcoinTestNodeOptions,
  type DevnetWallet as TestWallet,
  descriptorChecksum,
  devnetWallet as testWallet,
  type MinedBlock,
  type MineOptions,
  type Payment,
  REGTEST_GENESIS_HASH,
  type RequestLogEntry,
  type ScriptType,
  type SpendInput,
  type Utxo,
} from '../../functions/local/bitcoin-devnet.ts';
