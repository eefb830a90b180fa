/**
 * Conversion between domain objects and DynamoDB items.
 *
 * Outflow records use an explicit codec: they are the ledger the rules sum, so every bigint is stored
 * as a decimal string (DynamoDB numbers hold only 38 digits; a uint256 has 78) and every field is
 * checked on the way back rather than defaulted.
 *
 * Cursor, state and audit items are documents with free-form `details`; they are stored as native
 * maps (readable in the console, and a reader can project a single attribute such as `tripped`).
 * The cursor's reorg checkpoints are packed into one string (cursorToItem): the cursor is written on
 * every advancing poll, and packed it stays under one write unit (1 KB).
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { OutflowRecord } from '../../core/model.ts';
import type { Checkpoint } from '../../core/reorg-checkpoints.ts';
import type { ChainCursor } from '../../core/state.ts';
import { type ItemKey, outflowExpiresAt, outflowKey, PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE } from './table.ts';

export type Item = Record<string, AttributeValue>;

const PRICE_SOURCES: ReadonlySet<string> = new Set<OutflowRecord['priceSource']>([
  'static',
  'feed',
  'worst-case',
  'unknown-asset',
  'discovered',
  'scenario',
]);

export function outflowToItem(r: OutflowRecord): Item {
  const key = outflowKey(r);
  const item: Item = {
    [PARTITION_KEY]: { S: key.pk },
    [SORT_KEY]: { S: key.sk },
    [TTL_ATTRIBUTE]: { N: String(outflowExpiresAt(r.t)) },
    id: { S: r.id },
    chain: { S: r.chain },
    block: { N: String(r.block) },
    blockHash: { S: r.blockHash },
    blockTime: { N: String(r.blockTime) },
    txHash: { S: r.txHash },
    index: r.index === null ? { NULL: true } : { N: String(r.index) },
    contract: r.contract === null ? { NULL: true } : { S: r.contract },
    from: { S: r.from },
    to: { S: r.to },
    amount: { S: r.amount.toString() },
    t: { N: String(r.t) },
    asset: { S: r.asset },
    decimals: r.decimals === null ? { NULL: true } : { N: String(r.decimals) },
    known: { BOOL: r.known },
    own: { BOOL: r.own },
    usdMicros: { S: r.usdMicros.toString() },
    priceSource: { S: r.priceSource },
  };
  if (r.fee !== undefined) item.fee = { S: r.fee.toString() };
  if (r.balanceAfter !== undefined) item.balanceAfter = { S: r.balanceAfter.toString() };
  return item;
}

export function itemToOutflow(item: Item): OutflowRecord {
  const f = new ItemFields(item, 'outflow');
  const priceSource = f.str('priceSource');
  if (!PRICE_SOURCES.has(priceSource)) f.malformed('priceSource');
  const record: OutflowRecord = {
    id: f.str('id'),
    chain: f.str('chain'),
    block: f.num('block'),
    blockHash: f.str('blockHash'),
    blockTime: f.num('blockTime'),
    txHash: f.str('txHash'),
    index: f.isNull('index') ? null : f.num('index'),
    contract: f.isNull('contract') ? null : f.str('contract'),
    from: f.str('from'),
    to: f.str('to'),
    amount: f.big('amount'),
    t: f.num('t'),
    asset: f.str('asset'),
    decimals: f.isNull('decimals') ? null : f.num('decimals'),
    known: f.bool('known'),
    own: f.bool('own'),
    usdMicros: f.big('usdMicros'),
    priceSource: priceSource as OutflowRecord['priceSource'],
  };
  if (item.fee !== undefined) record.fee = f.big('fee');
  if (item.balanceAfter !== undefined) record.balanceAfter = f.big('balanceAfter');
  return record;
}

/** The cursor item: a document whose `recent` checkpoints are one packed string (packCheckpoints). */
export function cursorToItem(key: ItemKey, cursor: ChainCursor): Item {
  const item = documentToItem(key, { ...cursor, recent: undefined });
  item.recent = { S: packCheckpoints(cursor.recent) };
  return item;
}

/**
 * Reads both layouts: `recent` packed (S), or the list of {n, h, t} maps cursors were written with
 * before (L; migrated on read, packed by the next write).
 */
export function itemToCursor(item: Item): ChainCursor {
  const doc = itemToDocument(item);
  const where = `${item[PARTITION_KEY]?.S}/${item[SORT_KEY]?.S}`;
  if (typeof doc.chain !== 'string' || typeof doc.version !== 'number' || typeof doc.lastBlock !== 'number') {
    throw new Error(`malformed cursor item ${where}`);
  }
  const packed = item.recent?.S;
  const recent = packed !== undefined ? unpackCheckpoints(packed, where) : doc.recent;
  if (!Array.isArray(recent)) throw new Error(`malformed cursor item ${where}: field "recent" is missing`);
  return { ...doc, recent } as unknown as ChainCursor;
}

/**
 * `n.t.hash` per checkpoint, comma-separated, numbers in base 36; after the first, `n` and `t` are
 * differences from the previous checkpoint (usually one or two characters).
 */
export function packCheckpoints(recent: readonly Checkpoint[]): string {
  let prev: Checkpoint | undefined;
  return recent
    .map((c) => {
      if (!/^[~0-9A-Za-z]+$/.test(c.h)) throw new Error(`block hash "${c.h}" of block ${c.n} cannot be packed`);
      const n = c.n - (prev?.n ?? 0);
      const t = c.t - (prev?.t ?? 0);
      prev = c;
      return `${n.toString(36)}.${t.toString(36)}.${c.h}`;
    })
    .join(',');
}

function unpackCheckpoints(packed: string, where: string): Checkpoint[] {
  if (packed === '') return [];
  let prev: Checkpoint | undefined;
  return packed.split(',').map((entry) => {
    const [n, t, h, extra] = entry.split('.');
    const dn = parseBase36(n);
    const dt = parseBase36(t);
    if (dn === undefined || dt === undefined || !h || extra !== undefined) {
      throw new Error(`malformed cursor item ${where}: checkpoint "${entry}" is not n.t.hash`);
    }
    prev = { n: (prev?.n ?? 0) + dn, t: (prev?.t ?? 0) + dt, h };
    return prev;
  });
}

function parseBase36(text: string | undefined): number | undefined {
  if (text === undefined || !/^-?[0-9a-z]+$/.test(text)) return undefined;
  const v = Number.parseInt(text, 36);
  return Number.isSafeInteger(v) ? v : undefined;
}

/** A document item: the key plus the object's fields as native attributes. */
export function documentToItem(key: ItemKey, doc: object): Item {
  return {
    ...marshall(bigintsToStrings(doc) as Record<string, unknown>, {
      removeUndefinedValues: true,
      convertClassInstanceToMap: false,
    }),
    [PARTITION_KEY]: { S: key.pk },
    [SORT_KEY]: { S: key.sk },
  };
}

/** The document without its key attributes. The caller checks the shape it expects. */
export function itemToDocument(item: Item): Record<string, unknown> {
  // Number(): a huge JS number that someone put in `details` must read back as itself, not throw on
  // every later read (the default unmarshall turns unsafe integers into BigInt or throws).
  const doc = unmarshall(item, { wrapNumbers: (text: string) => Number(text) });
  delete doc[PARTITION_KEY];
  delete doc[SORT_KEY];
  return doc;
}

/**
 * `details` maps are free-form; a bigint in them is stored as its decimal string, so no value loses
 * precision and the item can always be read back.
 */
function bigintsToStrings(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return value.map(bigintsToStrings);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, bigintsToStrings(v)]));
  }
  return value;
}

/** Typed field access that refuses a malformed item instead of inventing a default. */
class ItemFields {
  constructor(
    private readonly item: Item,
    private readonly what: string,
  ) {}

  str(name: string): string {
    const v = this.item[name]?.S;
    if (v === undefined) this.malformed(name);
    return v;
  }

  num(name: string): number {
    const text = this.item[name]?.N;
    const v = text === undefined ? Number.NaN : Number(text);
    if (!Number.isSafeInteger(v)) this.malformed(name);
    return v;
  }

  big(name: string): bigint {
    const text = this.str(name);
    if (!/^-?\d+$/.test(text)) this.malformed(name);
    return BigInt(text);
  }

  bool(name: string): boolean {
    const v = this.item[name]?.BOOL;
    if (v === undefined) this.malformed(name);
    return v;
  }

  isNull(name: string): boolean {
    return this.item[name]?.NULL === true;
  }

  malformed(name: string): never {
    const key = `${this.item[PARTITION_KEY]?.S}/${this.item[SORT_KEY]?.S}`;
    throw new Error(`malformed ${this.what} item ${key}: field "${name}" is missing or has the wrong type`);
  }
}
