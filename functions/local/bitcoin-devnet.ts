/**
 * A local Bitcoin node stand-in — the demo's Bitcoin "devnet" and the Bitcoin tests' node. No bitcoind
 * or electrs is needed: it builds real transactions and blocks with bitcoinjs-lib (real serialisation,
 * signatures, txids, merkle roots, witness commitments and block hashes, each block linked to its
 * parent) and serves them on 127.0.0.1 through the subset of Bitcoin Core JSON-RPC and of the Esplora
 * REST API that the breaker's Bitcoin reader uses, in the same JSON shapes. It is not a Bitcoin node:
 * no P2P, no wallet RPCs, no script verification of its own, no fee or policy rules.
 *
 * Mined blocks use the regtest target (bits 0x207fffff) and the nonce is ground until the hash meets
 * it, so on a regtest chain proof of work is valid; on a chain of another network it is not (only
 * imported real blocks carry real mainnet work). Scripts and signatures are produced by bitcoinjs'
 * PSBT signer and checked there, not re-verified by the node; the node does check that inputs exist,
 * are unspent and cover the outputs.
 *
 * What it can do: mine a block with given transactions, reorganise (replace the last k blocks),
 * accept replacements in its mempool (full RBF: a double spend paying a higher fee evicts the
 * original), import real blocks, and behave like an old Core (before v23 getblock verbosity 3 is
 * answered as 2, without prevouts; before v22 scriptPubKey lists `addresses`). `startBitcoinDevnet`
 * (below the class) runs one for the demo: funded wallets and a block every few seconds.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as ecc from '@bitcoinerlab/secp256k1';
import {
  Block,
  address as baddress,
  crypto as bcrypto,
  script as bscript,
  initEccLib,
  type Network,
  networks,
  Psbt,
  payments,
  Transaction,
} from 'bitcoinjs-lib';
import { ECPairFactory, type ECPairInterface } from 'ecpair';

initEccLib(ecc);
const ECPair = ECPairFactory(ecc);

/** Node 22's JSON.rawJSON (not yet in TypeScript's lib): a number serialised exactly as given. */
const rawJSON = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON;

// ---------------------------------------------------------------- keys and wallets

export type ScriptType = 'p2pkh' | 'p2sh-p2wpkh' | 'p2wpkh' | 'p2tr';

export interface DevnetWallet {
  readonly type: ScriptType;
  readonly address: string;
  readonly output: Uint8Array;
  readonly keyPair: ECPairInterface;
  readonly network: Network;
}

/** A deterministic key (sha256 of `seed`) and its address of the given type. */
export function devnetWallet(seed: string, type: ScriptType, network: Network = networks.regtest): DevnetWallet {
  const keyPair = ECPair.fromPrivateKey(createHash('sha256').update(seed).digest(), { network });
  const pubkey = keyPair.publicKey;
  const payment =
    type === 'p2pkh'
      ? payments.p2pkh({ pubkey, network })
      : type === 'p2wpkh'
        ? payments.p2wpkh({ pubkey, network })
        : type === 'p2sh-p2wpkh'
          ? payments.p2sh({ redeem: payments.p2wpkh({ pubkey, network }), network })
          : payments.p2tr({ internalPubkey: xOnly(pubkey), network });
  if (!payment.address || !payment.output) throw new Error(`cannot derive a ${type} address`);
  return { type, address: payment.address, output: payment.output, keyPair, network };
}

function xOnly(pubkey: Uint8Array): Uint8Array {
  return pubkey.length === 32 ? pubkey : pubkey.slice(1, 33);
}

/** ECDSA for 33/65-byte keys, BIP340 Schnorr for 32-byte (Taproot) keys. */
function verifySignature(pubkey: Uint8Array, hash: Uint8Array, signature: Uint8Array): boolean {
  return pubkey.length === 32 ? ecc.verifySchnorr(hash, pubkey, signature) : ecc.verify(hash, pubkey, signature);
}

export interface Utxo {
  txid: string;
  vout: number;
  value: bigint;
  script: Uint8Array;
}

export interface Payment {
  /** An address of the node's network, or an output script. */
  to: string | Uint8Array;
  value: bigint;
}

export interface SpendInput {
  utxo: Utxo;
  /** The key that owns it (for a coinjoin, the other party's key too: the test plays every signer). */
  wallet: DevnetWallet;
}

// ---------------------------------------------------------------- the node

export interface BitcoinDevnetOptions {
  /** @default networks.regtest */
  network?: Network;
  /** Core version to imitate, as `getnetworkinfo.version` spells it (250000 = v25.0). @default 250000 */
  coreVersion?: number;
  /** Require this user:password on JSON-RPC. */
  rpcAuth?: { user: string; password: string };
  /** Serve confirmed transactions from getrawtransaction (Core's -txindex). @default true */
  txindex?: boolean;
  /** Time of the block mined on the genesis block. @default 1_700_000_000 */
  startTime?: number;
  /** Keep every request in `requests` (tests assert on it; a long-running devnet should not). @default true */
  recordRequests?: boolean;
}

export interface MinedBlock {
  height: number;
  hash: string;
  time: number;
  txids: string[];
}

export interface MineOptions {
  /** Transactions after the coinbase, in order. @default every mempool transaction */
  txs?: Transaction[];
  /** Coinbase outputs. @default 50 BTC to an OP_TRUE script */
  coinbase?: Payment[];
  /** Pay the block subsidy at this height plus the block's fees here, as a miner does (instead of `coinbase`). */
  rewardTo?: string;
  /** Block time. @default parent time + 600 */
  time?: number;
}

interface StoredBlock {
  height: number;
  hash: string;
  block: Block;
  txs: Transaction[];
}

interface Confirmation {
  height: number;
  hash: string;
}

export interface RequestLogEntry {
  api: 'rpc' | 'esplora';
  /** JSON-RPC method names of the request (several for a batch), or the Esplora path. */
  calls: string[];
  /** JSON-RPC params, one list per call. */
  params?: unknown[][];
}

class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

const REGTEST_BITS = 0x207fffff;
const OP_TRUE_SCRIPT = Uint8Array.of(0x51);
const ZERO_HASH = '0'.repeat(64);
const MAINNET_GENESIS_HEX =
  '0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c0101000000010000000000000000000000000000000000000000000000000000000000000000ffffffff4d04ffff001d0104455468652054696d65732030332f4a616e2f32303039204368616e63656c6c6f72206f6e206272696e6b206f66207365636f6e64206261696c6f757420666f722062616e6b73ffffffff0100f2052a01000000434104678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61deb649f6bc3f4cef38c4f35504e51ec112de5c384df7ba0b8d578a4c702b6bf11d5fac00000000';
export const REGTEST_GENESIS_HASH = '0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206';

/** Regtest's genesis: mainnet's block with regtest time, bits and nonce. */
function regtestGenesis(): Block {
  const block = Block.fromHex(MAINNET_GENESIS_HEX);
  block.timestamp = 1296688602;
  block.bits = REGTEST_BITS;
  block.nonce = 2;
  if (block.getId() !== REGTEST_GENESIS_HASH) throw new Error('regtest genesis does not hash to its known id');
  return block;
}

export class BitcoinDevnet {
  readonly network: Network;
  readonly coreVersion: number;
  /** Every HTTP request served, for asserting how a reader talks to the node. */
  readonly requests: RequestLogEntry[] = [];
  private readonly options: BitcoinDevnetOptions;
  /** Active chain by height; imported real blocks may leave gaps. */
  private chain: (StoredBlock | undefined)[] = [];
  private readonly staleBlocks = new Map<string, StoredBlock>();
  private readonly txs = new Map<string, Transaction>();
  private readonly confirmed = new Map<string, Confirmation>();
  private readonly spentBy = new Map<string, string>();
  private readonly mempool = new Map<string, Transaction>();
  private extraNonce = 0;
  private failures = 0;
  private server: Server | undefined;
  private port = 0;

  constructor(options: BitcoinDevnetOptions = {}) {
    this.options = options;
    this.network = options.network ?? networks.regtest;
    this.coreVersion = options.coreVersion ?? 250000;
    if (this.network === networks.regtest) this.connect(regtestGenesis(), 0);
  }

  // ------------------------------------------------------------ HTTP

  /** Listen on 127.0.0.1:`port` (0: any free port). */
  async start(port = 0): Promise<{ rpcUrl: string; esploraUrl: string }> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((e: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String(e));
      });
    });
    const server = this.server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.port = (server.address() as AddressInfo).port;
    return { rpcUrl: this.rpcUrl, esploraUrl: this.esploraUrl };
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  get rpcUrl(): string {
    const auth = this.options.rpcAuth;
    const cred = auth ? `${encodeURIComponent(auth.user)}:${encodeURIComponent(auth.password)}@` : '';
    return `http://${cred}127.0.0.1:${this.port}/`;
  }

  get esploraUrl(): string {
    return `http://127.0.0.1:${this.port}/api`;
  }

  /** Called before each request is answered, e.g. to reorganise the chain in the middle of a read. */
  onRequest: ((entry: RequestLogEntry) => void) | undefined;

  /** Answer the next `n` requests (either API) with HTTP 503. */
  failNextRequests(n: number): void {
    this.failures = n;
  }

  private log(entry: RequestLogEntry): void {
    if (this.options.recordRequests !== false) this.requests.push(entry);
    this.onRequest?.(entry);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (this.failures > 0) {
      this.failures--;
      this.log({ api: url.pathname.startsWith('/api/') ? 'esplora' : 'rpc', calls: ['(HTTP 503)'] });
      res.writeHead(503, { 'content-type': 'text/plain' });
      res.end('Service Unavailable');
      return;
    }
    if (url.pathname.startsWith('/api/') && req.method === 'GET') {
      this.log({ api: 'esplora', calls: [url.pathname.slice(4)] });
      const reply = this.esplora(url.pathname.slice(4).split('/').filter(Boolean));
      const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
      res.writeHead(reply.status, {
        'content-type': typeof reply.body === 'string' ? 'text/plain' : 'application/json',
      });
      res.end(text);
      return;
    }
    if (req.method === 'POST' && url.pathname === '/') {
      this.rpcHttp(req, body, res);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('Not found');
  }

  // ------------------------------------------------------------ chain building

  get height(): number {
    return this.chain.length - 1;
  }

  get tipHash(): string {
    return this.blockAt(this.height).hash;
  }

  get tipTime(): number {
    return this.blockAt(this.height).block.timestamp;
  }

  blockHashAt(height: number): string {
    return this.blockAt(height).hash;
  }

  private blockAt(height: number): StoredBlock {
    const block = this.chain[height];
    if (!block) throw new Error(`no block at height ${height}`);
    return block;
  }

  /** Mine a block on the tip: coinbase first, then `txs` (default: the whole mempool). */
  mine(options: MineOptions = {}): MinedBlock {
    const parent = this.blockAt(this.height);
    const height = parent.height + 1;
    const txs = options.txs ?? [...this.mempool.values()];
    this.checkSpendable(txs);

    const coinbase = new Transaction();
    coinbase.version = 2;
    const tag = new Uint8Array(4);
    new DataView(tag.buffer).setUint32(0, ++this.extraNonce, true);
    coinbase.addInput(
      new Uint8Array(32),
      0xffffffff,
      0xffffffff,
      bscript.compile([bscript.number.encode(height), tag]),
    );
    const inBlock = new Map(txs.map((t) => [t.getId(), t]));
    const reward = options.rewardTo && {
      to: options.rewardTo,
      value: this.subsidy(height) + txs.reduce((sum, tx) => sum + this.feeOf(tx, inBlock), 0n),
    };
    for (const p of reward ? [reward] : (options.coinbase ?? [{ to: OP_TRUE_SCRIPT, value: 50_00000000n }])) {
      coinbase.addOutput(this.outputScript(p.to), p.value);
    }
    const all = [coinbase, ...txs];
    const block = new Block();
    block.version = 0x20000000;
    block.prevHash = Uint8Array.from(Buffer.from(parent.hash, 'hex').reverse());
    block.timestamp =
      options.time ?? (parent.height === 0 ? (this.options.startTime ?? 1_700_000_000) : parent.block.timestamp + 600);
    block.bits = REGTEST_BITS;
    if (txs.some((tx) => tx.hasWitnesses())) {
      // BIP141: the coinbase commits to the witness merkle root with a zero reserved value.
      const reserved = new Uint8Array(32);
      coinbase.setWitness(0, [reserved]);
      const commitment = Block.calculateMerkleRoot(all, true);
      coinbase.addOutput(
        bscript.compile([bscript.OPS.OP_RETURN, Buffer.concat([Buffer.from('aa21a9ed', 'hex'), commitment])]),
        0n,
      );
      block.witnessCommit = commitment;
    }
    block.transactions = all;
    block.merkleRoot = Block.calculateMerkleRoot(all);
    block.nonce = 0;
    while (!block.checkProofOfWork()) block.nonce++;
    if (!block.checkTxRoots()) throw new Error('mined block fails its own merkle or witness commitment');
    this.connect(block, height);
    return { height, hash: block.getId(), time: block.timestamp, txids: all.map((t) => t.getId()) };
  }

  /**
   * Replace the last `depth` blocks: disconnect them (their transactions go back to the mempool,
   * as in Core; a disconnected block stays retrievable by hash) and mine `replacements`.
   */
  reorg(depth: number, replacements: MineOptions[]): { disconnected: string[]; mined: MinedBlock[] } {
    if (depth < 1 || depth > this.height) throw new Error(`cannot reorg ${depth} blocks at height ${this.height}`);
    const disconnected: string[] = [];
    for (let i = 0; i < depth; i++) {
      const stored = this.blockAt(this.height);
      this.chain.pop();
      this.staleBlocks.set(stored.hash, stored);
      disconnected.push(stored.hash);
      for (const tx of stored.txs) {
        this.confirmed.delete(tx.getId());
        if (tx.isCoinbase()) continue;
        for (const input of tx.ins) this.spentBy.delete(outpointKey(input.hash, input.index));
      }
      for (const tx of stored.txs.slice(1)) this.mempool.set(tx.getId(), tx);
    }
    const mined = replacements.map((r) => this.mine(r));
    return { disconnected, mined };
  }

  /** Put a real block (raw hex) at `height`, e.g. a mainnet block; its inputs' transactions must be known. */
  importBlock(hex: string, height: number): MinedBlock {
    const block = Block.fromHex(hex);
    if (!block.checkTxRoots()) throw new Error('imported block fails its merkle root');
    const below = this.chain[height - 1];
    if (
      below &&
      below.hash !==
        Buffer.from(block.prevHash ?? new Uint8Array(32))
          .reverse()
          .toString('hex')
    ) {
      throw new Error(`block does not link to block ${height - 1}`);
    }
    if (this.chain.length > height) throw new Error(`height ${height} is taken`);
    this.checkSpendable(block.transactions?.slice(1) ?? []);
    this.connect(block, height);
    return {
      height,
      hash: block.getId(),
      time: block.timestamp,
      txids: (block.transactions ?? []).map((t) => t.getId()),
    };
  }

  /** Make a confirmed transaction known (e.g. the real transaction an imported block spends from). */
  addConfirmedTx(hex: string, height: number, blockHash: string): string {
    const tx = Transaction.fromHex(hex);
    const txid = tx.getId();
    this.txs.set(txid, tx);
    this.confirmed.set(txid, { height, hash: blockHash });
    return txid;
  }

  /** sendrawtransaction: into the mempool, evicting conflicts that pay less (full RBF, as Core ≥ 28). */
  broadcast(tx: Transaction): string {
    const txid = tx.getId();
    const conflicts = new Set<string>();
    for (const input of tx.ins) {
      const key = outpointKey(input.hash, input.index);
      if (!this.confirmed.has(txidOf(input.hash)) && !this.mempool.has(txidOf(input.hash))) {
        throw new RpcError(-25, 'bad-txns-inputs-missingorspent');
      }
      if (this.spentBy.has(key)) throw new RpcError(-25, 'bad-txns-inputs-missingorspent');
      for (const [otherId, other] of this.mempool) {
        if (other.ins.some((i) => outpointKey(i.hash, i.index) === key)) conflicts.add(otherId);
      }
    }
    const fee = this.feeOf(tx);
    const replaced = [...conflicts].reduce((sum, id) => sum + this.feeOf(this.mempool.get(id) as Transaction), 0n);
    if (conflicts.size > 0 && fee <= replaced) {
      throw new RpcError(
        -26,
        `insufficient fee, rejecting replacement ${txid}; new fee ${fee} <= old fees ${replaced}`,
      );
    }
    for (const id of conflicts) this.mempool.delete(id);
    this.txs.set(txid, tx);
    this.mempool.set(txid, tx);
    return txid;
  }

  mempoolTxids(): string[] {
    return [...this.mempool.keys()];
  }

  /** Unspent outputs on the active chain paying `script`. */
  utxosOf(output: Uint8Array): Utxo[] {
    const hex = Buffer.from(output).toString('hex');
    const found: Utxo[] = [];
    for (const [txid] of this.confirmed) {
      const tx = this.txs.get(txid) as Transaction;
      tx.outs.forEach((o, vout) => {
        if (Buffer.from(o.script).toString('hex') === hex && !this.spentBy.has(`${txid}:${vout}`)) {
          found.push({ txid, vout, value: o.value, script: o.script });
        }
      });
    }
    return found;
  }

  /** Build and sign a transaction, BIP125-signalling when `rbf`. */
  createTx(inputs: SpendInput[], outputs: Payment[], options: { rbf?: boolean } = {}): Transaction {
    const psbt = new Psbt({ network: this.network });
    psbt.setVersion(2);
    psbt.setMaximumFeeRate(1_000_000);
    const sequence = options.rbf ? 0xfffffffd : 0xffffffff;
    for (const { utxo, wallet } of inputs) {
      const hash = Buffer.from(utxo.txid, 'hex').reverse();
      if (wallet.type === 'p2pkh') {
        const prev = this.txs.get(utxo.txid);
        if (!prev) throw new Error(`unknown transaction ${utxo.txid}`);
        psbt.addInput({ hash, index: utxo.vout, sequence, nonWitnessUtxo: prev.toBuffer() });
      } else if (wallet.type === 'p2tr') {
        psbt.addInput({
          hash,
          index: utxo.vout,
          sequence,
          witnessUtxo: { script: utxo.script, value: utxo.value },
          tapInternalKey: xOnly(wallet.keyPair.publicKey),
        });
      } else {
        const redeem =
          wallet.type === 'p2sh-p2wpkh'
            ? { redeemScript: payments.p2wpkh({ pubkey: wallet.keyPair.publicKey, network: this.network }).output }
            : {};
        psbt.addInput({
          hash,
          index: utxo.vout,
          sequence,
          witnessUtxo: { script: utxo.script, value: utxo.value },
          ...redeem,
        });
      }
    }
    for (const o of outputs) psbt.addOutput({ script: this.outputScript(o.to), value: o.value });
    inputs.forEach(({ wallet }, i) => {
      if (wallet.type === 'p2tr') {
        const tweak = bcrypto.taggedHash('TapTweak', xOnly(wallet.keyPair.publicKey));
        psbt.signInput(i, wallet.keyPair.tweak(tweak));
      } else {
        psbt.signInput(i, wallet.keyPair);
      }
    });
    if (!psbt.validateSignaturesOfAllInputs(verifySignature)) {
      throw new Error('a signature does not verify');
    }
    psbt.finalizeAllInputs();
    return psbt.extractTransaction();
  }

  outputScript(to: string | Uint8Array): Uint8Array {
    return typeof to === 'string' ? baddress.toOutputScript(to, this.network) : to;
  }

  private connect(block: Block, height: number): void {
    const hash = block.getId();
    const txs = block.transactions ?? [];
    while (this.chain.length < height) this.chain.push(undefined);
    this.chain[height] = { height, hash, block, txs };
    for (const tx of txs) {
      const txid = tx.getId();
      this.txs.set(txid, tx);
      this.confirmed.set(txid, { height, hash });
      this.mempool.delete(txid);
      if (tx.isCoinbase()) continue;
      for (const input of tx.ins) this.spentBy.set(outpointKey(input.hash, input.index), txid);
    }
    // Whatever the block double-spent is gone from the mempool.
    for (const [id, tx] of this.mempool) {
      if (tx.ins.some((i) => this.spentBy.has(outpointKey(i.hash, i.index)))) this.mempool.delete(id);
    }
  }

  private checkSpendable(txs: Transaction[]): void {
    const inBlock = new Set<string>();
    const available = new Map<string, Transaction>();
    for (const tx of txs) {
      for (const input of tx.ins) {
        const key = outpointKey(input.hash, input.index);
        const prevId = txidOf(input.hash);
        const prev = available.get(prevId) ?? (this.confirmed.has(prevId) ? this.txs.get(prevId) : undefined);
        if (!prev?.outs[input.index]) throw new Error(`${tx.getId()} spends unknown output ${key}`);
        if (this.spentBy.has(key) || inBlock.has(key)) throw new Error(`${tx.getId()} double-spends ${key}`);
        inBlock.add(key);
      }
      available.set(tx.getId(), tx);
      if (this.feeOf(tx, available) < 0n) throw new Error(`${tx.getId()} spends more than its inputs hold`);
    }
  }

  /** 50 BTC, halving every 150 blocks on regtest and every 210,000 elsewhere. */
  private subsidy(height: number): bigint {
    const halvings = Math.floor(height / (this.network === networks.regtest ? 150 : 210_000));
    return halvings >= 64 ? 0n : 50_00000000n >> BigInt(halvings);
  }

  private feeOf(tx: Transaction, extra?: Map<string, Transaction>): bigint {
    let inputs = 0n;
    for (const input of tx.ins) {
      const prevId = txidOf(input.hash);
      const prev = extra?.get(prevId) ?? this.txs.get(prevId) ?? this.mempool.get(prevId);
      inputs += prev?.outs[input.index]?.value ?? 0n;
    }
    return inputs - tx.outs.reduce((sum, o) => sum + o.value, 0n);
  }

  // ------------------------------------------------------------ Bitcoin Core JSON-RPC

  private rpcHttp(req: IncomingMessage, body: string, res: ServerResponse): void {
    const auth = this.options.rpcAuth;
    if (auth) {
      const expected = `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString('base64')}`;
      if (req.headers.authorization !== expected) {
        this.log({ api: 'rpc', calls: ['(unauthorised)'] });
        res.writeHead(401, { 'www-authenticate': 'Basic realm="jsonrpc"' });
        res.end();
        return;
      }
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ result: null, error: { code: -32700, message: 'Parse error' }, id: null }));
      return;
    }
    const batch = Array.isArray(parsed);
    const requests = (batch ? parsed : [parsed]) as Array<{ id?: unknown; method?: string; params?: unknown[] }>;
    this.log({ api: 'rpc', calls: requests.map((r) => String(r.method)), params: requests.map((r) => r.params ?? []) });
    const replies = requests.map((r) => {
      try {
        return { result: this.rpc(String(r.method), r.params ?? []), error: null, id: r.id ?? null };
      } catch (e) {
        if (!(e instanceof RpcError)) throw e;
        return { result: null, error: { code: e.code, message: e.message }, id: r.id ?? null };
      }
    });
    // JSON-RPC 1.0 as Core speaks it: a single failed call is HTTP 500 (404 for an unknown method), a batch is 200.
    const single = replies[0];
    const status = batch || !single?.error ? 200 : single.error.code === -32601 ? 404 : 500;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(`${JSON.stringify(batch ? replies : single)}\n`);
  }

  private rpc(method: string, params: unknown[]): unknown {
    switch (method) {
      case 'getblockcount':
        return this.height;
      case 'getbestblockhash':
        return this.tipHash;
      case 'getblockchaininfo':
        return {
          chain: this.network === networks.regtest ? 'regtest' : this.network === networks.testnet ? 'test' : 'main',
          blocks: this.height,
          headers: this.height,
          bestblockhash: this.tipHash,
          initialblockdownload: false,
          pruned: false,
        };
      case 'getnetworkinfo':
        return { version: this.coreVersion, subversion: `/Satoshi:${this.coreVersion / 10000}.0.0/` };
      case 'getblockhash': {
        const height = params[0];
        if (typeof height !== 'number' || !this.chain[height]) throw new RpcError(-8, 'Block height out of range');
        return this.blockAt(height).hash;
      }
      case 'getblockheader': {
        const stored = this.storedBlock(params[0]);
        if (params[1] === false) return stored.block.toHex(true);
        return this.coreHeader(stored);
      }
      case 'getblock': {
        const stored = this.storedBlock(params[0]);
        const verbosity =
          params[1] === undefined ? 1 : params[1] === true ? 1 : params[1] === false ? 0 : Number(params[1]);
        if (verbosity === 0) return stored.block.toHex();
        const header = this.coreHeader(stored);
        const { nTx, ...rest } = header as { nTx: number } & Record<string, unknown>;
        const inBest = this.chain[stored.height]?.hash === stored.hash;
        // v23 added verbosity 3 (prevouts; only for blocks in the best chain); older nodes answer it as 2.
        const prevouts = verbosity >= 3 && this.coreVersion >= 230000 && inBest;
        return {
          ...rest,
          nTx,
          strippedsize: stored.block.byteLength(false, false),
          size: stored.block.byteLength(),
          weight: stored.block.weight(),
          tx:
            verbosity === 1
              ? stored.txs.map((t) => t.getId())
              : stored.txs.map((t) => this.coreTx(t, { prevouts, fee: this.coreVersion >= 230000 && inBest })),
        };
      }
      case 'getrawtransaction': {
        const txid = String(params[0]);
        const tx = this.mempool.get(txid) ?? (this.options.txindex !== false ? this.txs.get(txid) : undefined);
        const conf = this.confirmed.get(txid);
        if (!tx || (!conf && !this.mempool.has(txid))) {
          throw new RpcError(
            -5,
            'No such mempool or blockchain transaction. Use gettransaction for wallet transactions.',
          );
        }
        if (!params[1]) return tx.toHex();
        const json = this.coreTx(tx, { prevouts: false, fee: false }) as Record<string, unknown>;
        if (conf) {
          const time = this.chain[conf.height]?.block.timestamp;
          Object.assign(json, {
            blockhash: conf.hash,
            confirmations: this.height - conf.height + 1,
            time,
            blocktime: time,
          });
        }
        return json;
      }
      case 'getrawmempool':
        return this.mempoolTxids();
      case 'scantxoutset': {
        // Only `start` with `addr(<address>)` descriptors: the confirmed coins paying them, at the tip.
        const [action, descriptors] = params as [unknown, unknown];
        if (action !== 'start' || !Array.isArray(descriptors)) throw new RpcError(-8, 'Invalid action or scanobjects');
        const unspents = descriptors.flatMap((d) => {
          const desc = typeof d === 'string' ? d : String((d as { desc?: unknown })?.desc);
          const address = /^addr\((.+)\)$/.exec(desc)?.[1];
          if (!address) throw new RpcError(-5, `Invalid descriptor ${desc}`);
          return this.utxosOf(baddress.toOutputScript(address, this.network)).map((u) => ({
            txid: u.txid,
            vout: u.vout,
            scriptPubKey: hex(u.script),
            desc,
            amount: btcJson(u.value),
            coinbase: (this.txs.get(u.txid) as Transaction).isCoinbase(),
            height: (this.confirmed.get(u.txid) as Confirmation).height,
          }));
        });
        return { success: true, txouts: unspents.length, height: this.height, bestblock: this.tipHash, unspents };
      }
      case 'sendrawtransaction': {
        let tx: Transaction;
        try {
          tx = Transaction.fromHex(String(params[0]));
        } catch {
          throw new RpcError(-22, 'TX decode failed');
        }
        return this.broadcast(tx);
      }
      default:
        throw new RpcError(-32601, 'Method not found');
    }
  }

  private storedBlock(hash: unknown): StoredBlock {
    if (typeof hash !== 'string' || !/^[0-9a-f]{64}$/.test(hash)) {
      throw new RpcError(-8, `blockhash must be of length 64 (not ${String(hash).length}, for '${String(hash)}')`);
    }
    const active = this.chain.find((b) => b?.hash === hash);
    const found = active ?? this.staleBlocks.get(hash);
    if (!found) throw new RpcError(-5, 'Block not found');
    return found;
  }

  private coreHeader(stored: StoredBlock): Record<string, unknown> {
    const { block, height, hash } = stored;
    const inBest = this.chain[height]?.hash === hash;
    const next = inBest ? this.chain[height + 1]?.hash : undefined;
    const prev = Buffer.from(block.prevHash ?? new Uint8Array(32))
      .reverse()
      .toString('hex');
    return {
      hash,
      confirmations: inBest ? this.height - height + 1 : -1,
      height,
      version: block.version,
      versionHex: (block.version >>> 0).toString(16).padStart(8, '0'),
      merkleroot: Buffer.from(block.merkleRoot ?? new Uint8Array(32))
        .reverse()
        .toString('hex'),
      time: block.timestamp,
      mediantime: this.medianTime(height),
      nonce: block.nonce,
      bits: (block.bits >>> 0).toString(16).padStart(8, '0'),
      difficulty: difficulty(block.bits),
      chainwork: chainwork(block.bits, height),
      nTx: stored.txs.length,
      ...(prev === ZERO_HASH ? {} : { previousblockhash: prev }),
      ...(next ? { nextblockhash: next } : {}),
    };
  }

  private medianTime(height: number): number {
    const times: number[] = [];
    for (let h = height; h >= 0 && times.length < 11; h--) {
      const b = this.chain[h];
      if (b) times.push(b.block.timestamp);
    }
    times.sort((a, b) => a - b);
    return times[Math.floor(times.length / 2)] ?? 0;
  }

  private coreTx(tx: Transaction, options: { prevouts: boolean; fee: boolean }): Record<string, unknown> {
    const coinbase = tx.isCoinbase();
    const vin = tx.ins.map((input) => {
      const witness = input.witness.length > 0 ? { txinwitness: input.witness.map(hex) } : {};
      if (coinbase) return { coinbase: hex(input.script), ...witness, sequence: input.sequence };
      const prevId = txidOf(input.hash);
      const prevTx = this.txs.get(prevId);
      const prev = prevTx?.outs[input.index];
      const prevout =
        options.prevouts && prevTx && prev
          ? {
              prevout: {
                generated: prevTx.isCoinbase(),
                height: this.confirmed.get(prevId)?.height ?? this.height + 1,
                value: btcJson(prev.value),
                scriptPubKey: this.coreScriptPubKey(prev.script),
              },
            }
          : {};
      return {
        txid: prevId,
        vout: input.index,
        scriptSig: { asm: bscript.toASM(input.script), hex: hex(input.script) },
        ...witness,
        ...prevout,
        sequence: input.sequence,
      };
    });
    const vout = tx.outs.map((o, n) => ({ value: btcJson(o.value), n, scriptPubKey: this.coreScriptPubKey(o.script) }));
    const fee = options.fee && !coinbase ? { fee: btcJson(this.feeOf(tx)) } : {};
    return {
      txid: tx.getId(),
      // Core's `hash` is the wtxid; bitcoinjs returns zeros for a coinbase's (its merkle-tree value).
      hash: Buffer.from(bcrypto.hash256(tx.toBuffer())).reverse().toString('hex'),
      version: tx.version,
      size: tx.byteLength(),
      vsize: tx.virtualSize(),
      weight: tx.weight(),
      locktime: tx.locktime,
      vin,
      vout,
      ...fee,
      hex: tx.toHex(),
    };
  }

  private coreScriptPubKey(script: Uint8Array): Record<string, unknown> {
    const type = coreType(script);
    const addr = addressOf(script, this.network);
    const asm = bscript.toASM(script);
    if (this.coreVersion < 220000) {
      return { asm, hex: hex(script), ...(addr ? { reqSigs: 1 } : {}), type, ...(addr ? { addresses: [addr] } : {}) };
    }
    const desc = addr ? `addr(${addr})` : type === 'pubkey' ? `pk(${hex(script.slice(1, -1))})` : `raw(${hex(script)})`;
    return { asm, desc: descriptorChecksum(desc), hex: hex(script), ...(addr ? { address: addr } : {}), type };
  }

  // ------------------------------------------------------------ Esplora

  private esplora(parts: string[]): { status: number; body: unknown } {
    const [head, id, sub, extra] = parts;
    const notFound = (text: string) => ({ status: 404, body: text });
    if (head === 'blocks' && id === 'tip' && sub === 'height') return { status: 200, body: String(this.height) };
    if (head === 'blocks' && id === 'tip' && sub === 'hash') return { status: 200, body: this.tipHash };
    if (head === 'block-height' && id !== undefined) {
      const height = Number(id);
      const block = Number.isSafeInteger(height) ? this.chain[height] : undefined;
      return block ? { status: 200, body: block.hash } : notFound('Block not found');
    }
    if (head === 'block' && id !== undefined) {
      const stored = this.chain.find((b) => b?.hash === id) ?? this.staleBlocks.get(id);
      if (!stored) return notFound('Block not found');
      if (sub === undefined) return { status: 200, body: this.esploraBlock(stored) };
      if (sub === 'status') {
        const inBest = this.chain[stored.height]?.hash === stored.hash;
        const next = inBest ? this.chain[stored.height + 1]?.hash : undefined;
        return { status: 200, body: { in_best_chain: inBest, height: stored.height, next_best: next ?? null } };
      }
      if (sub === 'txids') return { status: 200, body: stored.txs.map((t) => t.getId()) };
      if (sub === 'txs') {
        const start = extra === undefined ? 0 : Number(extra);
        if (!Number.isSafeInteger(start) || start >= stored.txs.length) return notFound('start index out of range');
        if (start % 25 !== 0) return { status: 400, body: 'start index must be a multipication of 25' };
        return { status: 200, body: stored.txs.slice(start, start + 25).map((t) => this.esploraTx(t)) };
      }
    }
    if (head === 'address' && id !== undefined && sub === 'utxo') {
      // The confirmed coins paying the address (electrs also lists unconfirmed ones; the devnet's are all mined).
      let script: Uint8Array;
      try {
        script = baddress.toOutputScript(id, this.network);
      } catch {
        return { status: 400, body: 'Invalid Bitcoin address' };
      }
      const utxos = this.utxosOf(script).map((u) => {
        const conf = this.confirmed.get(u.txid) as Confirmation;
        return {
          txid: u.txid,
          vout: u.vout,
          status: { confirmed: true, block_height: conf.height, block_hash: conf.hash },
          value: rawJSON(String(u.value)),
        };
      });
      return { status: 200, body: utxos };
    }
    if (head === 'tx' && id !== undefined && sub === undefined) {
      const tx = this.txs.get(id);
      return tx && (this.confirmed.has(id) || this.mempool.has(id))
        ? { status: 200, body: this.esploraTx(tx) }
        : notFound('Transaction not found');
    }
    return notFound('Not Found');
  }

  private esploraBlock(stored: StoredBlock): Record<string, unknown> {
    const { block, height, hash } = stored;
    const prev = Buffer.from(block.prevHash ?? new Uint8Array(32))
      .reverse()
      .toString('hex');
    return {
      id: hash,
      height,
      version: block.version,
      timestamp: block.timestamp,
      tx_count: stored.txs.length,
      size: block.byteLength(),
      weight: block.weight(),
      merkle_root: Buffer.from(block.merkleRoot ?? new Uint8Array(32))
        .reverse()
        .toString('hex'),
      previousblockhash: prev === ZERO_HASH ? null : prev,
      mediantime: this.medianTime(height),
      nonce: block.nonce,
      bits: block.bits,
      difficulty: difficulty(block.bits),
    };
  }

  private esploraTx(tx: Transaction): Record<string, unknown> {
    const txid = tx.getId();
    const coinbase = tx.isCoinbase();
    const vin = tx.ins.map((input) => {
      const prevId = coinbase ? ZERO_HASH : txidOf(input.hash);
      const prev = coinbase ? undefined : this.txs.get(prevId)?.outs[input.index];
      return {
        txid: prevId,
        vout: coinbase ? 0xffffffff : input.index,
        prevout: prev ? this.esploraOutput(prev.script, prev.value) : null,
        scriptsig: hex(input.script),
        scriptsig_asm: bscript.toASM(input.script),
        ...(input.witness.length > 0 ? { witness: input.witness.map(hex) } : {}),
        is_coinbase: coinbase,
        sequence: input.sequence,
      };
    });
    const conf = this.confirmed.get(txid);
    const block = conf ? this.chain[conf.height] : undefined;
    return {
      txid,
      version: tx.version,
      locktime: tx.locktime,
      vin,
      vout: tx.outs.map((o) => this.esploraOutput(o.script, o.value)),
      size: tx.byteLength(),
      weight: tx.weight(),
      fee: rawJSON(String(coinbase ? 0n : this.feeOf(tx))),
      status: conf
        ? { confirmed: true, block_height: conf.height, block_hash: conf.hash, block_time: block?.block.timestamp }
        : { confirmed: false },
    };
  }

  private esploraOutput(script: Uint8Array, value: bigint): Record<string, unknown> {
    const addr = addressOf(script, this.network);
    return {
      scriptpubkey: hex(script),
      scriptpubkey_asm: bscript.toASM(script),
      scriptpubkey_type: esploraType(script),
      ...(addr ? { scriptpubkey_address: addr } : {}),
      value: rawJSON(String(value)),
    };
  }
}

// ---------------------------------------------------------------- a running devnet (the demo's)

export interface StartBitcoinDevnetOptions {
  /** Port on 127.0.0.1; 0 = any free port. */
  port: number;
  /** Seconds between blocks. */
  blockSeconds: number;
  /** Each address gets the reward of this many blocks (50 BTC each), mined before the blocks that make them spendable. */
  fund: { address: string; blocks: number }[];
  /** Receives the reward of every other block. */
  minerAddress: string;
  rpcAuth?: { user: string; password: string };
  /** A block could not be mined (the node refused a mempool transaction: a bug in whoever built it). */
  onError?: (error: unknown) => void;
  /** Wall clock in ms, for block times. @default Date.now */
  now?: () => number;
}

export interface BitcoinDevnetRun {
  readonly node: BitcoinDevnet;
  readonly rpcUrl: string;
  readonly esploraUrl: string;
  stop(): Promise<void>;
}

/** Core's coinbase maturity: a block reward is spendable 100 blocks later. */
const COINBASE_MATURITY = 100;

/**
 * A regtest devnet as `bitcoind -regtest` plus `generatetoaddress` would leave it: the funded
 * addresses' block rewards, 100 blocks so that they are spendable, then a block every `blockSeconds`
 * with whatever is in the mempool. Block times follow the wall clock, so outflows on this chain fall
 * in the same rolling windows as those of a local EVM chain.
 */
export async function startBitcoinDevnet(options: StartBitcoinDevnetOptions): Promise<BitcoinDevnetRun> {
  const now = () => Math.floor((options.now ?? Date.now)() / 1000);
  const node = new BitcoinDevnet({ recordRequests: false, ...(options.rpcAuth ? { rpcAuth: options.rpcAuth } : {}) });
  const rewards = [
    ...options.fund.flatMap((f) => Array.from({ length: f.blocks }, () => f.address)),
    ...Array.from({ length: COINBASE_MATURITY }, () => options.minerAddress),
  ];
  // The history ends one second ago, one block a second, as if just generated.
  const first = now() - rewards.length;
  for (const [i, to] of rewards.entries()) node.mine({ rewardTo: to, time: first + i });
  const urls = await node.start(options.port);
  const timer = setInterval(() => {
    try {
      node.mine({ rewardTo: options.minerAddress, time: Math.max(node.tipTime + 1, now()) });
    } catch (e) {
      options.onError?.(e);
    }
  }, options.blockSeconds * 1000);
  return {
    node,
    ...urls,
    async stop() {
      clearInterval(timer);
      await node.stop();
    },
  };
}

// ---------------------------------------------------------------- helpers

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

function txidOf(hash: Uint8Array): string {
  return Buffer.from(hash).reverse().toString('hex');
}

function outpointKey(hash: Uint8Array, index: number): string {
  return `${txidOf(hash)}:${index}`;
}

/** Core prints amounts as BTC with exactly 8 decimals, never in exponent form. */
function btcJson(sats: bigint): unknown {
  const digits = sats.toString().padStart(9, '0');
  return rawJSON(`${digits.slice(0, -8)}.${digits.slice(-8)}`);
}

/** Address as Core and electrs print it: none for P2PK, bare multisig, OP_RETURN or non-standard scripts. */
function addressOf(script: Uint8Array, network: Network): string | undefined {
  if (coreType(script) === 'pubkey') return undefined;
  try {
    return baddress.fromOutputScript(script, network);
  } catch {
    return undefined;
  }
}

function coreType(s: Uint8Array): string {
  const n = s.length;
  if (n === 25 && s[0] === 0x76 && s[1] === 0xa9 && s[2] === 20 && s[23] === 0x88 && s[24] === 0xac)
    return 'pubkeyhash';
  if (n === 23 && s[0] === 0xa9 && s[1] === 20 && s[22] === 0x87) return 'scripthash';
  if (n === 22 && s[0] === 0 && s[1] === 20) return 'witness_v0_keyhash';
  if (n === 34 && s[0] === 0 && s[1] === 32) return 'witness_v0_scripthash';
  if (n === 34 && s[0] === 0x51 && s[1] === 32) return 'witness_v1_taproot';
  if (n === 4 && s[0] === 0x51 && s[1] === 2 && s[2] === 0x4e && s[3] === 0x73) return 'anchor';
  if (n >= 4 && n <= 42 && s[1] === n - 2 && (s[0] as number) >= 0x51 && (s[0] as number) <= 0x60)
    return 'witness_unknown';
  if ((n === 35 || n === 67) && s[0] === n - 2 && s[n - 1] === 0xac) return 'pubkey';
  if (n >= 1 && s[0] === 0x6a) return 'nulldata';
  if (n >= 1 && s[n - 1] === 0xae) return 'multisig';
  return 'nonstandard';
}

function esploraType(script: Uint8Array): string {
  if (script.length === 0) return 'empty';
  const map: Record<string, string> = {
    pubkeyhash: 'p2pkh',
    scripthash: 'p2sh',
    witness_v0_keyhash: 'v0_p2wpkh',
    witness_v0_scripthash: 'v0_p2wsh',
    witness_v1_taproot: 'v1_p2tr',
    pubkey: 'p2pk',
    nulldata: 'op_return',
  };
  return map[coreType(script)] ?? 'unknown';
}

/** Core's GetDifficulty. */
function difficulty(bits: number): number {
  let shift = (bits >>> 24) & 0xff;
  let diff = 0x0000ffff / (bits & 0x00ffffff);
  while (shift < 29) {
    diff *= 256;
    shift++;
  }
  while (shift > 29) {
    diff /= 256;
    shift--;
  }
  return diff;
}

/** Work of `height + 1` blocks at this block's target: exact for regtest and early mainnet, where bits never changed. */
function chainwork(bits: number, height: number): string {
  const exponent = BigInt(bits >>> 24);
  const mantissa = BigInt(bits & 0x007fffff);
  const target = exponent <= 3n ? mantissa >> (8n * (3n - exponent)) : mantissa << (8n * (exponent - 3n));
  const work = (1n << 256n) / (target + 1n);
  return (work * BigInt(height + 1)).toString(16).padStart(64, '0');
}

const INPUT_CHARSET =
  '0123456789()[],\'/*abcdefgh@:$%{}IJKLMNOPQRSTUVWXYZ&+-.;<=>?!^_|~ijklmnopqrstuvwxyzABCDEFGH`#"\\ ';
const CHECKSUM_CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const GENERATOR = [0xf5dee51989n, 0xa9fdca3312n, 0x1bab10e32dn, 0x3706b1677an, 0x644d626ffdn];

/** BIP380 descriptor checksum: `raw(deadbeef)` → `raw(deadbeef)#89f8spxm`. */
export function descriptorChecksum(desc: string): string {
  const symbols: number[] = [];
  let groups: number[] = [];
  for (const c of desc) {
    const v = INPUT_CHARSET.indexOf(c);
    if (v < 0) throw new Error(`invalid descriptor character ${c}`);
    symbols.push(v & 31);
    groups.push(v >> 5);
    if (groups.length === 3) {
      symbols.push((groups[0] as number) * 9 + (groups[1] as number) * 3 + (groups[2] as number));
      groups = [];
    }
  }
  if (groups.length === 1) symbols.push(groups[0] as number);
  if (groups.length === 2) symbols.push((groups[0] as number) * 3 + (groups[1] as number));
  let chk = 1n;
  for (const value of [...symbols, 0, 0, 0, 0, 0, 0, 0, 0]) {
    const top = chk >> 35n;
    chk = ((chk & 0x7ffffffffn) << 5n) ^ BigInt(value);
    for (let i = 0; i < 5; i++) if ((top >> BigInt(i)) & 1n) chk ^= GENERATOR[i] as bigint;
  }
  chk ^= 1n;
  let out = '';
  for (let i = 0; i < 8; i++) out += CHECKSUM_CHARSET[Number((chk >> BigInt(5 * (7 - i))) & 31n)];
  return `${desc}#${out}`;
}
