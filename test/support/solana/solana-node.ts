import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type Address,
  appendTransactionMessageInstructions,
  createTransactionMessage,
  generateKeyPairSigner,
  getCompiledTransactionMessageDecoder,
  getSignatureFromTransaction,
  type Instruction,
  type KeyPairSigner,
  lamports,
  pipe,
  setTransactionMessageFeePayerSigner,
  setTransactionMessageLifetimeUsingBlockhash,
  signTransactionMessageWithSigners,
} from '@solana/kit';
import { FailedTransactionMetadata, type InnerInstruction, LiteSVM } from 'litesvm';
import { base58Encode } from '../../../functions/adapters/encoding/base58.ts';
import {
  SYSTEM_PROGRAM,
  TOKEN_2022_PROGRAM,
  TOKEN_PROGRAM,
} from '../../../functions/adapters/solana/solana-outflows.ts';

/**
 * A Solana JSON-RPC stand-in over LiteSVM: the real System, Token, Token-2022 and Associated Token
 * programs execute real ed25519-signed transactions offline. LiteSVM has no blocks, no RPC and no
 * transaction metadata beyond logs and inner instructions, so this node adds them: transactions sent
 * during a slot go into that slot's block when `endSlot()` closes it (`skipSlots()` leaves slots
 * without a block); the balances of every account of a transaction are read before and after it
 * (lamports; token accounts decoded as mint 0–32, owner 32–64, amount u64 LE at 64) to give
 * `preBalances`/`postBalances` and `pre`/`postTokenBalances`; the fee is LiteSVM's 5,000 lamports
 * per signature (checked against the fee payer's balance on failed transactions, where it is the
 * only change).
 *
 * `serve()` starts a JSON-RPC server (127.0.0.1, free port, batches) in the mainnet wire format for
 * getGenesisHash, getSlot, getBlocks, getBlock, getSignaturesForAddress and getTransaction, with
 * Agave's error codes: −32004 block not available, −32007 slot skipped, −32015 transaction version
 * not supported, −32016 minimum context slot not reached. A view may lag the finalized slot or
 * rewrite answers, to play a slow or lying endpoint.
 */

const LAMPORTS_PER_SIGNATURE = 5_000n;
const SLOT_SECONDS = 0.4;

interface TokenBalanceWire {
  accountIndex: number;
  mint: string;
  owner: string;
  programId: string;
  uiTokenAmount: { amount: string; decimals: number; uiAmount: number | null; uiAmountString: string };
}

export interface InstructionWire {
  programIdIndex: number;
  accounts: number[];
  data: string;
  stackHeight: number | null;
}

export interface RecordedTx {
  signature: string;
  slot: number;
  blockTime: number;
  accountKeys: string[];
  err: unknown;
  /** The `getTransaction` result (bigints are written as plain JSON numbers). */
  wire: Record<string, unknown>;
}

interface Block {
  slot: number;
  blockhash: string;
  previousBlockhash: string;
  parentSlot: number;
  blockTime: number;
  blockHeight: number;
  txs: RecordedTx[];
}

export interface SentTx {
  signature: string;
  ok: boolean;
}

export interface ViewOptions {
  /** The view's finalized slot trails the node's by this many slots. */
  lagSlots?: number;
  /** Another genesis hash (a wrong-cluster endpoint). */
  genesisHash?: string;
  /** Rewrite a result before it is sent (a lying or broken endpoint). */
  rewrite?: (method: string, params: unknown[], result: unknown) => unknown;
}

export interface NodeView {
  url: string;
  /** HTTP requests and JSON-RPC calls this view answered. */
  readonly counts: { httpRequests: number; rpcCalls: number };
  options: ViewOptions;
  close(): Promise<void>;
}

interface AccountState {
  lamports: bigint;
  token?: { mint: string; owner: string; program: string; amount: bigint; decimals: number };
}

class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
  }
}

export class SolanaNode {
  readonly svm = new LiteSVM();
  readonly genesisHash = base58Encode(randomBytes(32));
  private readonly blocks = new Map<number, Block>();
  private readonly txs = new Map<string, RecordedTx>();
  private readonly byAddress = new Map<string, RecordedTx[]>();
  private pending: RecordedTx[] = [];
  /** Per closed slot: the accounts transactions have touched, as that slot left them (getBalance, getTokenAccountsByOwner). */
  private readonly states = new Map<number, Map<string, AccountState>>();
  /** The slot transactions now go into. */
  private slot = 1;
  private last: Block;
  private readonly views = new Set<NodeView>();
  private readonly startTime: number;

  /** `startTime`: the genesis block's Unix time (default now); slot s is 0.4 s × s later. */
  constructor(options: { startTime?: number } = {}) {
    this.startTime = options.startTime ?? Math.floor(Date.now() / 1000);
    this.last = {
      slot: 0,
      blockhash: this.genesisHash,
      previousBlockhash: base58Encode(new Uint8Array(32)),
      parentSlot: 0,
      blockTime: this.startTime,
      blockHeight: 0,
      txs: [],
    };
    this.blocks.set(0, this.last);
    this.svm.warpToSlot(1n);
  }

  /** The last closed slot (every closed slot is final here: the node is one honest validator). */
  finalizedSlot(): number {
    return this.slot - 1;
  }

  /** A new funded keypair. */
  async wallet(sol = 1_000n): Promise<KeyPairSigner> {
    const signer = await generateKeyPairSigner();
    const result = this.svm.airdrop(signer.address, lamports(sol * 1_000_000_000n));
    if (!result || result instanceof FailedTransactionMetadata) {
      throw new Error(
        `stand-in: the faucet could not airdrop ${sol} SOL (${result ? String(result.err()) : 'no result'})`,
      );
    }
    return signer;
  }

  /** Set a system account's balance outright (beyond what the airdrop faucet holds: amounts above 2^53). */
  setLamports(address: Address, amount: bigint): void {
    this.svm.setAccount({
      address,
      data: new Uint8Array(),
      executable: false,
      lamports: lamports(amount),
      programAddress: SYSTEM_PROGRAM as Address,
      space: 0n,
    });
  }

  /**
   * Sign `instructions` with `payer` (and any signer the instructions name) and execute them in the
   * current slot, recording the transaction as a validator would.
   */
  async send(payer: KeyPairSigner, instructions: readonly Instruction[]): Promise<SentTx> {
    const tx = await pipe(
      createTransactionMessage({ version: 0 }),
      (m) => setTransactionMessageFeePayerSigner(payer, m),
      (m) =>
        setTransactionMessageLifetimeUsingBlockhash(
          { blockhash: this.svm.latestBlockhash(), lastValidBlockHeight: 0n },
          m,
        ),
      (m) => appendTransactionMessageInstructions(instructions, m),
      (m) => signTransactionMessageWithSigners(m),
    );
    const signature = getSignatureFromTransaction(tx);
    const message = getCompiledTransactionMessageDecoder().decode(tx.messageBytes) as unknown as CompiledMessage;
    const keys = message.staticAccounts as string[];
    const preBalances = keys.map((k) => this.lamportsOf(k));
    const preTokenBalances = this.tokenBalances(keys);
    const result = this.svm.sendTransaction(tx);
    const failed = result instanceof FailedTransactionMetadata;
    const meta = failed ? result.meta() : result;
    const postBalances = keys.map((k) => this.lamportsOf(k));
    const postTokenBalances = this.tokenBalances(keys);
    const fee = LAMPORTS_PER_SIGNATURE * BigInt(message.header.numSignerAccounts);
    if (failed && (preBalances[0] ?? 0n) - (postBalances[0] ?? 0n) !== fee) {
      throw new Error(
        `stand-in: failed ${signature} (${String(result.err())}) charged ${(preBalances[0] ?? 0n) - (postBalances[0] ?? 0n)}, not ${fee}`,
      );
    }
    const err = failed ? errorWire(result.err()) : null;
    const blockTime = this.timeOf(this.slot);
    const recorded: RecordedTx = {
      signature,
      slot: this.slot,
      blockTime,
      accountKeys: keys,
      err,
      wire: {
        slot: this.slot,
        blockTime,
        version: 0,
        meta: {
          err,
          status: err === null ? { Ok: null } : { Err: err },
          fee,
          preBalances,
          postBalances,
          innerInstructions: meta
            .innerInstructions()
            .map((list, index) => ({ index, instructions: list.map(innerWire) }))
            .filter((x) => x.instructions.length > 0),
          logMessages: meta.logs(),
          preTokenBalances,
          postTokenBalances,
          rewards: [],
          loadedAddresses: { writable: [], readonly: [] },
          computeUnitsConsumed: meta.computeUnitsConsumed(),
        },
        transaction: {
          signatures: Object.values(tx.signatures).map((s) => base58Encode(s as Uint8Array)),
          message: {
            accountKeys: keys,
            header: {
              numRequiredSignatures: message.header.numSignerAccounts,
              numReadonlySignedAccounts: message.header.numReadonlySignerAccounts,
              numReadonlyUnsignedAccounts: message.header.numReadonlyNonSignerAccounts,
            },
            recentBlockhash: this.svm.latestBlockhash(),
            instructions: message.instructions.map((ix) => ({
              programIdIndex: ix.programAddressIndex,
              accounts: [...(ix.accountIndices ?? [])],
              data: base58Encode(ix.data ?? new Uint8Array()),
              stackHeight: null,
            })),
            addressTableLookups: [],
          },
        },
      },
    };
    this.pending.push(recorded);
    return { signature, ok: !failed };
  }

  /** Close the current slot with a block holding what was sent in it; returns the slot. */
  endSlot(): number {
    const slot = this.slot;
    const block: Block = {
      slot,
      blockhash: this.svm.latestBlockhash(),
      previousBlockhash: this.last.blockhash,
      parentSlot: this.last.slot,
      blockTime: this.timeOf(slot),
      blockHeight: this.last.blockHeight + 1,
      txs: this.pending,
    };
    this.blocks.set(slot, block);
    for (const tx of this.pending) {
      this.txs.set(tx.signature, tx);
      for (const key of tx.accountKeys) {
        const list = this.byAddress.get(key) ?? [];
        list.push(tx);
        this.byAddress.set(key, list);
      }
    }
    this.pending = [];
    this.last = block;
    this.states.set(slot, this.snapshot());
    this.advance();
    return slot;
  }

  /** The state of every account a recorded transaction touched, now (nothing is pending when a slot closes). */
  private snapshot(): Map<string, AccountState> {
    const state = new Map<string, AccountState>();
    for (const address of this.byAddress.keys()) {
      const [token] = this.tokenBalances([address]);
      state.set(address, {
        lamports: this.lamportsOf(address),
        ...(token && {
          token: {
            mint: token.mint,
            owner: token.owner as string,
            program: token.programId as string,
            amount: BigInt(token.uiTokenAmount.amount),
            decimals: token.uiTokenAmount.decimals,
          },
        }),
      });
    }
    return state;
  }

  /** The latest closed slot's state at or below `slot`. */
  private stateAt(slot: number): { slot: number; accounts: Map<string, AccountState> } {
    for (let s = slot; s >= 0; s--) {
      const accounts = this.states.get(s);
      if (accounts) return { slot, accounts };
    }
    return { slot, accounts: new Map() };
  }

  /** Leave `count` slots without a block (the leader missed them); nothing may be pending. */
  skipSlots(count = 1): void {
    if (this.pending.length > 0) throw new Error('stand-in: transactions are pending; endSlot() first');
    for (let i = 0; i < count; i++) this.advance();
  }

  /** The slot of a recorded (closed) transaction. */
  transaction(signature: string): RecordedTx | undefined {
    return this.txs.get(signature);
  }

  /** A JSON-RPC endpoint over this node. */
  async serve(options: ViewOptions = {}): Promise<NodeView> {
    const counts = { httpRequests: 0, rpcCalls: 0 };
    const view: NodeView = { url: '', counts, options, close: async () => {} };
    const server = createServer((req, res) => {
      counts.httpRequests++;
      void this.answer(view, req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    view.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    view.close = () => {
      this.views.delete(view);
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    };
    this.views.add(view);
    return view;
  }

  async close(): Promise<void> {
    await Promise.all([...this.views].map((v) => v.close()));
  }

  private advance(): void {
    this.slot++;
    this.svm.expireBlockhash();
    this.svm.warpToSlot(BigInt(this.slot));
  }

  private timeOf(slot: number): number {
    return this.startTime + Math.floor(slot * SLOT_SECONDS);
  }

  private lamportsOf(address: string): bigint {
    return this.svm.getBalance(address as Address) ?? 0n;
  }

  private tokenBalances(keys: string[]): TokenBalanceWire[] {
    const out: TokenBalanceWire[] = [];
    keys.forEach((key, accountIndex) => {
      const account = this.svm.getAccount(key as Address);
      if (!account.exists) return;
      const program = account.programAddress as string;
      if (program !== TOKEN_PROGRAM && program !== TOKEN_2022_PROGRAM) return;
      const data = account.data;
      // A token account is 165 bytes; a Token-2022 one with extensions says so at byte 165 (2 = account).
      if (data.length < 165 || (data.length > 165 && data[165] !== 2)) return;
      const mint = base58Encode(data.slice(0, 32));
      const mintAccount = this.svm.getAccount(mint as Address);
      const decimals = mintAccount.exists ? (mintAccount.data[44] ?? 0) : 0;
      const amount = new DataView(data.buffer, data.byteOffset).getBigUint64(64, true);
      out.push({
        accountIndex,
        mint,
        owner: base58Encode(data.slice(32, 64)),
        programId: program,
        uiTokenAmount: { amount: String(amount), decimals, uiAmount: null, uiAmountString: String(amount) },
      });
    });
    return out;
  }

  private async answer(view: NodeView, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } }));
      return;
    }
    const one = (msg: Record<string, unknown>) => {
      view.counts.rpcCalls++;
      const params = Array.isArray(msg.params) ? (msg.params as unknown[]) : [];
      try {
        const raw = this.dispatch(view, String(msg.method), params);
        const result = view.options.rewrite ? view.options.rewrite(String(msg.method), params, raw) : raw;
        return { jsonrpc: '2.0', id: msg.id, result };
      } catch (e) {
        if (!(e instanceof RpcError)) throw e;
        return {
          jsonrpc: '2.0',
          id: msg.id,
          error: { code: e.code, message: e.message, ...(e.data !== undefined && { data: e.data }) },
        };
      }
    };
    const reply = Array.isArray(body)
      ? body.map((m) => one(m as Record<string, unknown>))
      : one(body as Record<string, unknown>);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(stringify(reply));
  }

  private dispatch(view: NodeView, method: string, params: unknown[]): unknown {
    const finalized = Math.max(0, this.finalizedSlot() - (view.options.lagSlots ?? 0));
    const config = (i: number) => (params[i] ?? {}) as Record<string, unknown>;
    const minContext = (i: number) => {
      const min = config(i).minContextSlot;
      if (typeof min === 'number' && min > finalized) {
        throw new RpcError(-32016, 'Minimum context slot has not been reached', { contextSlot: finalized });
      }
    };
    switch (method) {
      case 'getGenesisHash':
        return view.options.genesisHash ?? this.genesisHash;
      case 'getSlot':
        minContext(0);
        return finalized;
      case 'getBlocks': {
        const [start, endOrConfig] = params as [number, unknown];
        const hasEnd = typeof endOrConfig === 'number';
        minContext(hasEnd ? 2 : 1);
        const end = Math.min(hasEnd ? endOrConfig : finalized, finalized);
        return [...this.blocks.keys()].filter((s) => s >= start && s <= end).sort((a, b) => a - b);
      }
      case 'getBlock': {
        const slot = params[0] as number;
        minContext(1);
        if (slot > finalized) throw new RpcError(-32004, `Block not available for slot ${slot}`);
        const block = this.blocks.get(slot);
        if (!block)
          throw new RpcError(-32007, `Slot ${slot} was skipped, or missing due to ledger jump to recent snapshot`);
        const details = config(1).transactionDetails ?? 'full';
        return {
          blockhash: block.blockhash,
          previousBlockhash: block.previousBlockhash,
          parentSlot: block.parentSlot,
          blockTime: block.blockTime,
          blockHeight: block.blockHeight,
          ...(details === 'signatures' && { signatures: block.txs.map((t) => t.signature) }),
          ...(details === 'full' && {
            transactions: block.txs.map((t) => ({ meta: t.wire.meta, transaction: t.wire.transaction, version: 0 })),
          }),
        };
      }
      case 'getSignaturesForAddress': {
        const address = params[0] as string;
        const { limit = 1000, before, until } = config(1) as { limit?: number; before?: string; until?: string };
        minContext(1);
        const newestFirst = [...(this.byAddress.get(address) ?? [])].filter((t) => t.slot <= finalized).reverse();
        let start = 0;
        if (before) {
          start = newestFirst.findIndex((t) => t.signature === before) + 1;
          if (start === 0) return [];
        }
        const out = [];
        for (const t of newestFirst.slice(start)) {
          if (t.signature === until || out.length >= limit) break;
          out.push({
            signature: t.signature,
            slot: t.slot,
            err: t.err,
            memo: null,
            blockTime: t.blockTime,
            confirmationStatus: 'finalized',
          });
        }
        return out;
      }
      case 'getBalance': {
        minContext(1);
        const { slot, accounts } = this.stateAt(finalized);
        return { context: { slot, apiVersion: '2.2.0' }, value: accounts.get(params[0] as string)?.lamports ?? 0n };
      }
      case 'getTokenAccountsByOwner': {
        // By { mint } only (what the reader sends), jsonParsed.
        const [owner, filter] = params as [string, { mint?: string }];
        minContext(2);
        if (typeof filter?.mint !== 'string')
          throw new RpcError(-32602, 'Invalid params: the stand-in filters by mint');
        const { slot, accounts } = this.stateAt(finalized);
        const value = [...accounts]
          .filter(([, a]) => a.token?.owner === owner && a.token.mint === filter.mint)
          .map(([pubkey, a]) => {
            const t = a.token as NonNullable<AccountState['token']>;
            const tokenAmount = {
              amount: String(t.amount),
              decimals: t.decimals,
              uiAmount: null,
              uiAmountString: String(t.amount),
            };
            return {
              pubkey,
              account: {
                data: {
                  program: 'spl-token',
                  parsed: {
                    type: 'account',
                    info: { mint: t.mint, owner: t.owner, state: 'initialized', isNative: false, tokenAmount },
                  },
                  space: 165,
                },
                executable: false,
                lamports: a.lamports,
                owner: t.program,
                rentEpoch: 0,
                space: 165,
              },
            };
          });
        return { context: { slot, apiVersion: '2.2.0' }, value };
      }
      case 'getTransaction': {
        const tx = this.txs.get(params[0] as string);
        minContext(1);
        if (!tx || tx.slot > finalized) return null;
        if (config(1).maxSupportedTransactionVersion === undefined) {
          throw new RpcError(
            -32015,
            'Transaction version (0) is not supported by the requesting client. Please try the request again with the following configuration parameter: "maxSupportedTransactionVersion": 0',
          );
        }
        return tx.wire;
      }
      default:
        throw new RpcError(-32601, 'Method not found');
    }
  }
}

interface CompiledMessage {
  header: { numSignerAccounts: number; numReadonlySignerAccounts: number; numReadonlyNonSignerAccounts: number };
  staticAccounts: Address[];
  instructions: { programAddressIndex: number; accountIndices?: number[]; data?: Uint8Array }[];
}

function innerWire(inner: InnerInstruction): InstructionWire {
  const ix = inner.instruction();
  return {
    programIdIndex: ix.programIdIndex(),
    accounts: [...ix.accounts()],
    data: base58Encode(ix.data()),
    stackHeight: inner.stackHeight(),
  };
}

/** Agave's JSON for a transaction error, for the cases LiteSVM reports; other kinds as their name. */
function errorWire(err: unknown): unknown {
  const e = err as { index?: number; err?: () => unknown; toString(): string };
  if (typeof e.index === 'number' && typeof e.err === 'function') {
    const inner = e.err() as { code?: number } | number;
    return {
      InstructionError: [
        e.index,
        typeof inner === 'object' && typeof inner.code === 'number' ? { Custom: inner.code } : String(inner),
      ],
    };
  }
  return typeof err === 'number' ? `TransactionError(${err})` : String(err);
}

/** JSON with bigints written as plain numbers, as Agave writes u64 lamports. */
export function stringify(value: unknown): string {
  const rawJSON = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON;
  return JSON.stringify(value, (_key, v) => (typeof v === 'bigint' ? rawJSON(v.toString()) : v));
}
