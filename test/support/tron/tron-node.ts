/**
 * A Tron chain for tests (no java-tron installs here): transactions are built and signed by tronweb in
 * Tron's own format (protobuf raw_data_hex, txID = sha256 of it, secp256k1 signature), collected into
 * blocks with real-format blockIDs (8-byte number ‖ 24 bytes of a hash) linked by parentHash, and given
 * the TransactionInfo java-tron would record. Contract calls run on anvil: a Tron account's 20 address
 * bytes are the EVM address of the same key, so the call is sent from that key to the token deployed on
 * anvil, and the receipt (status, logs) and callTracer frames (internal transactions) are mapped to
 * Tron's info format: log addresses without 41, topics and data without 0x.
 *
 * `tron-server.ts` serves a node over java-tron's HTTP API and JSON-RPC. Solidification is a lag:
 * the last `solidLag` blocks are produced but not yet served by the solidity paths.
 */
import { createHash } from 'node:crypto';
import { SigningKey, Wallet } from 'ethers';
import { TronWeb } from 'tronweb';
import { evmHexOf } from '../../../functions/adapters/tron/addresses.ts';
import { type Anvil, minedReceipt } from '../anvil.ts';

export interface TronNodeOptions {
  /** Where contract calls run; required for `call`. */
  anvil?: Anvil;
  /** Makes a different chain (another genesis blockID) when it differs. @default 'hot-wallet-breaker' */
  genesisSeed?: string;
  /** Produced blocks the solidity paths do not serve yet. @default 0 */
  solidLag?: number;
  /** Record internal transactions (java-tron's vm.saveInternalTx). @default true */
  saveInternalTx?: boolean;
}

export interface TronKey {
  privateKey: string;
  /** T… form. */
  address: string;
  /** The same account on anvil. */
  evm: Wallet;
}

/** A transaction as java-tron stores it in a block (tronweb's signed JSON plus `ret`). */
type Json = Record<string, unknown>;

interface Produced {
  block: Json;
  infos: Json[];
  /** Account balances as this block left them (what /walletsolidity/getaccount serves at it). */
  accounts: Map<string, TronAccount>;
  /** The anvil block contract calls had reached when this block was produced (triggerconstantcontract reads there). */
  anvilBlock?: number;
}

/** A Tron account's TRX (sun) and TRC-10 holdings (token id → amount). */
export interface TronAccount {
  sun: bigint;
  tokens: Map<string, bigint>;
}

/** What every transaction of the stand-in costs its sender (plainInfo's `fee`), in sun. */
const TX_FEE = 1_100_000n;

export class TronNode {
  readonly blocks: Produced[] = [];
  solidLag: number;
  private readonly anvil: Anvil | undefined;
  private readonly saveInternalTx: boolean;
  private readonly tronWeb = new TronWeb({ fullHost: 'http://127.0.0.1:9' });
  private pending: { tx: Json; info: () => Promise<Json> }[] = [];
  /** TRX and TRC-10 balances now (a transaction moves them when queued; blocks keep a copy). */
  private readonly accounts = new Map<string, TronAccount>();

  constructor(options: TronNodeOptions = {}) {
    this.anvil = options.anvil;
    this.solidLag = options.solidLag ?? 0;
    this.saveInternalTx = options.saveInternalTx ?? true;
    const seed = options.genesisSeed ?? 'hot-wallet-breaker';
    this.blocks.push({
      block: blockJson(0, '0'.repeat(64), 1_700_000_000_000, [], seed),
      infos: [],
      accounts: new Map(),
    });
  }

  get genesisBlockId(): string {
    return (this.blocks[0] as Produced).block.blockID as string;
  }
  get fullHead(): number {
    return this.blocks.length - 1;
  }
  get solidHead(): number {
    return Math.max(0, this.fullHead - this.solidLag);
  }

  /** A funded account: TRX/TRC-10 balances are not tracked; on anvil it gets gas money. */
  async key(privateKey = Wallet.createRandom().privateKey): Promise<TronKey> {
    const evm = new Wallet(privateKey, this.anvil?.provider);
    if (this.anvil) await this.anvil.rpc('anvil_setBalance', [evm.address, '0x56bc75e2d63100000']);
    return { privateKey, address: TronWeb.address.fromPrivateKey(privateKey.replace(/^0x/, '')) as string, evm };
  }

  /** Credit `address` with TRX (sun) and TRC-10 tokens outright, as a genesis allocation would (in the next block). */
  credit(address: string, sun: bigint, tokens: Record<string, bigint> = {}): void {
    const account = this.account(address);
    account.sun += sun;
    for (const [id, amount] of Object.entries(tokens)) account.tokens.set(id, (account.tokens.get(id) ?? 0n) + amount);
  }

  /** An account as the solidified block `number` left it; undefined when it did not exist. */
  accountAt(number: number, address: string): TronAccount | undefined {
    return this.blocks[number]?.accounts.get(address);
  }

  anvilOf(): Anvil | undefined {
    return this.anvil;
  }

  /** The anvil block the state of Tron block `number` is on (contract calls run on anvil). */
  anvilBlockAt(number: number): number | undefined {
    return this.blocks[number]?.anvilBlock;
  }

  private account(address: string): TronAccount {
    let account = this.accounts.get(address);
    if (!account) {
      account = { sun: 0n, tokens: new Map() };
      this.accounts.set(address, account);
    }
    return account;
  }

  /** A transaction's effect on the TRX/TRC-10 balances: the sender pays `sun`, `tokens` and the fee; `to` gets them. */
  private move(from: string, to: string | undefined, sun: bigint, token?: { id: string; amount: bigint }): void {
    const sender = this.account(from);
    sender.sun -= sun + TX_FEE;
    if (to) this.account(to).sun += sun;
    if (token) {
      sender.tokens.set(token.id, (sender.tokens.get(token.id) ?? 0n) - token.amount);
      if (to) {
        const receiver = this.account(to);
        receiver.tokens.set(token.id, (receiver.tokens.get(token.id) ?? 0n) + token.amount);
      }
    }
  }

  /** TRX from `from` (sun). Amounts beyond 2^53 are re-encoded exactly (tronweb rounds them through a double). */
  async sendTrx(from: TronKey, to: string, sun: bigint): Promise<string> {
    const tx = await this.tronWeb.transactionBuilder.sendTrx(to, Number(sun), from.address, this.header());
    this.move(from.address, to, sun);
    return this.queue(exactAmount(tx as unknown as Json, sun), from, (id, n) => plainInfo(id, n));
  }

  /** A TRC-10 token (numeric id) from `from`. */
  async sendToken(from: TronKey, to: string, amount: bigint, tokenId: string): Promise<string> {
    const tx = await this.tronWeb.transactionBuilder.sendToken(
      to,
      Number(amount),
      tokenId,
      from.address,
      this.header(),
    );
    this.move(from.address, to, 0n, { id: tokenId, amount });
    return this.queue(exactAmount(tx as unknown as Json, amount), from, (id, n) => plainInfo(id, n));
  }

  /**
   * A TriggerSmartContract from `from` to `contract` (T…), executed on anvil: `signature` and
   * `params` as tronweb takes them (`transfer(address,uint256)`, [{type, value}]).
   */
  async call(
    from: TronKey,
    contract: string,
    signature: string,
    params: { type: string; value: unknown }[],
    value: { callValue?: bigint; callTokenValue?: bigint; tokenId?: string } = {},
  ): Promise<string> {
    const anvil = this.anvil;
    if (!anvil) throw new Error('TronNode.call needs an anvil');
    const built = await this.tronWeb.transactionBuilder.triggerSmartContract(
      contract,
      signature,
      {
        txLocal: true,
        feeLimit: 100_000_000,
        callValue: Number(value.callValue ?? 0n),
        ...(value.callTokenValue && { tokenValue: Number(value.callTokenValue), tokenId: Number(value.tokenId) }),
        ...this.header(),
      } as never,
      params as never,
      from.address,
    );
    const tx = (built as unknown as { transaction: Json }).transaction;
    const data = String(contractValue(tx).data);
    const sent = await from.evm.sendTransaction({
      to: `0x${evmHexOf(contract)}`,
      data: `0x${data}`,
      value: value.callValue ?? 0n,
      gasLimit: 3_000_000n,
    });
    const receipt = await minedReceipt(anvil.provider, sent.hash);
    const frames = this.saveInternalTx
      ? await anvil.rpc<CallFrame>('debug_traceTransaction', [sent.hash, { tracer: 'callTracer' }])
      : undefined;
    const ok = receipt.status === 1;
    // The fee always; the call value only when the call succeeded (TRC-10 call values are not tracked).
    this.move(from.address, ok ? contract : undefined, ok ? (value.callValue ?? 0n) : 0n);
    return this.queue(
      tx,
      from,
      (id, n) => ({
        ...plainInfo(id, n),
        contract_address: `41${evmHexOf(contract)}`,
        receipt: { energy_usage_total: Number(receipt.gasUsed), result: ok ? 'SUCCESS' : 'REVERT' },
        ...(!ok && { result: 'FAILED', resMessage: Buffer.from('REVERT opcode executed').toString('hex') }),
        ...(receipt.logs.length > 0 && {
          log: receipt.logs.map((l) => ({
            address: l.address.slice(2).toLowerCase(),
            topics: l.topics.map((t) => t.slice(2)),
            data: l.data.slice(2),
          })),
        }),
        ...(frames && internalTransactions(frames, id, !ok)),
      }),
      ok ? 'SUCCESS' : 'REVERT',
    );
  }

  /** Produce one block holding every queued transaction. */
  async produce(): Promise<number> {
    const number = this.blocks.length;
    const parent = (this.blocks[number - 1] as Produced).block;
    const parentTime = (parent.block_header as { raw_data: { timestamp: number } }).raw_data.timestamp;
    const txs = this.pending.map((p) => p.tx);
    const infos = await Promise.all(this.pending.map((p) => p.info()));
    this.pending = [];
    const block = blockJson(number, parent.blockID as string, Math.max(parentTime + 1000, Date.now()), txs, '');
    for (const info of infos) info.blockNumber = number;
    const accounts = new Map([...this.accounts].map(([a, v]) => [a, { sun: v.sun, tokens: new Map(v.tokens) }]));
    const anvilBlock = this.anvil ? await this.anvil.provider.getBlockNumber() : undefined;
    this.blocks.push({ block, infos, accounts, anvilBlock });
    return number;
  }

  async produceMany(count: number): Promise<void> {
    for (let i = 0; i < count; i++) await this.produce();
  }

  /** The block carrying `txId`, and its number. */
  blockOf(txId: string): number {
    const n = this.blocks.findIndex((b) => (b.block.transactions as Json[] | undefined)?.some((t) => t.txID === txId));
    if (n < 0) throw new Error(`tx ${txId} is in no block`);
    return n;
  }

  private header() {
    const last = (this.blocks[this.blocks.length - 1] as Produced).block;
    const number = this.blocks.length - 1;
    const now = Date.now();
    return {
      blockHeader: {
        ref_block_bytes: (number & 0xffff).toString(16).padStart(4, '0'),
        ref_block_hash: (last.blockID as string).slice(16, 32),
        expiration: now + 60_000,
        timestamp: now,
      },
    };
  }

  private queue(tx: Json, from: TronKey, info: (id: string, blockNumber: number) => Json, result = 'SUCCESS'): string {
    const id = tx.txID as string;
    const signature = new SigningKey(from.privateKey).sign(`0x${id}`).serialized.slice(2);
    this.pending.push({
      tx: { ...tx, signature: [signature], ret: [{ contractRet: result }] },
      info: async () => info(id, 0),
    });
    return id;
  }
}

interface CallFrame {
  from: string;
  to?: string;
  value?: string;
  type: string;
  error?: string;
  calls?: CallFrame[];
}

/** callTracer frames below the top call → java-tron `internal_transactions`, rejected when a frame or an ancestor failed. */
function internalTransactions(top: CallFrame, txId: string, txFailed: boolean): { internal_transactions?: Json[] } {
  const out: Json[] = [];
  const walk = (frame: CallFrame, rejected: boolean) => {
    for (const child of frame.calls ?? []) {
      const childRejected = rejected || child.error !== undefined;
      const value = BigInt(child.value ?? '0x0');
      out.push({
        hash: createHash('sha256').update(`${txId}:${out.length}`).digest('hex'),
        caller_address: `41${child.from.slice(2).toLowerCase()}`,
        transferTo_address: `41${(child.to ?? '0x'.padEnd(42, '0')).slice(2).toLowerCase()}`,
        callValueInfo: [value > 0n ? { callValue: value } : {}],
        note: Buffer.from(child.type.toLowerCase()).toString('hex'),
        ...(childRejected && { rejected: true }),
      });
      walk(child, childRejected);
    }
  };
  walk(top, txFailed || top.error !== undefined);
  return out.length > 0 ? { internal_transactions: out } : {};
}

function plainInfo(id: string, blockNumber: number): Json {
  return { id, fee: 1_100_000, blockNumber, blockTimeStamp: 0, receipt: { net_usage: 268 } };
}

function contractValue(tx: Json): Json {
  return ((tx.raw_data as Json).contract as { parameter: { value: Json } }[])[0]!.parameter.value;
}

/**
 * tronweb writes int64 amounts through a JS number; put the exact amount back into raw_data and into
 * the protobuf (field 3 of the contract, a varint of the same length) and recompute the txID.
 */
function exactAmount(tx: Json, amount: bigint): Json {
  const rounded = BigInt(Number(amount));
  if (rounded === amount) return tx;
  const from = `18${varint(rounded)}`;
  const to = `18${varint(amount)}`;
  const hex = tx.raw_data_hex as string;
  if (from.length !== to.length || hex.split(from).length !== 2)
    throw new Error('cannot re-encode this amount in place');
  const raw_data_hex = hex.replace(from, to);
  contractValue(tx).amount = amount;
  return { ...tx, raw_data_hex, txID: createHash('sha256').update(Buffer.from(raw_data_hex, 'hex')).digest('hex') };
}

function varint(n: bigint): string {
  const bytes: number[] = [];
  let v = n;
  do {
    const low = Number(v & 0x7fn);
    v >>= 7n;
    bytes.push(v > 0n ? low | 0x80 : low);
  } while (v > 0n);
  return Buffer.from(bytes).toString('hex');
}

function blockJson(number: number, parentHash: string, timestamp: number, txs: Json[], seed: string): Json {
  const raw_data = {
    number,
    txTrieRoot: createHash('sha256')
      .update(txs.map((t) => t.txID).join(''))
      .digest('hex'),
    witness_address: '41928c9af0651632157ef27a2cf17ca72c575a4d21',
    parentHash,
    version: 30,
    timestamp,
  };
  const digest = createHash('sha256').update(JSON.stringify(raw_data)).update(seed).digest('hex');
  return {
    blockID: number.toString(16).padStart(16, '0') + digest.slice(16),
    block_header: {
      raw_data:
        number === 0 ? { timestamp, txTrieRoot: raw_data.txTrieRoot, parentHash: raw_data.parentHash } : raw_data,
      witness_signature: digest,
    },
    ...(txs.length > 0 && { transactions: txs }),
  };
}
