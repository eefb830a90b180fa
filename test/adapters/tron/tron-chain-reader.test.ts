import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tronAddressFromEvm } from '../../../functions/adapters/tron/addresses.ts';
import type { TronChainReader } from '../../../functions/adapters/tron/tron-chain-reader.ts';
import { ChainReadError } from '../../../functions/core/errors.ts';
import type { ChainTransfer } from '../../../functions/core/model.ts';
import { ForwardingWallet } from '../../../functions/local/contracts/artifacts.ts';
import { deploy, deployDisperse, deployRevertOnReceive, deployTestToken } from '../../support/anvil.ts';
import type { TronKey } from '../../support/tron/tron-node.ts';
import { startTronWorld, type TronWorld, transferParams, tronReader } from './helpers.ts';

/** The same chain read both ways: eth_getLogs + candidates' info, and every block's info. */
const PATHS = [
  { name: 'JSON-RPC eth_getLogs + candidate info', jsonRpc: true },
  { name: 'gettransactioninfobyblocknum per block', jsonRpc: false },
] as const;

describe.each(PATHS)('TronChainReader through $name', (path) => {
  let w: TronWorld;
  let reader: TronChainReader;
  let payee: TronKey;
  let spender: TronKey;

  const connect = (hotWallets: string[]) =>
    tronReader({
      http: [w.server.url],
      ...(path.jsonRpc && { jsonRpc: [`${w.server.url}/jsonrpc`] }),
      genesisBlockId: w.node.genesisBlockId,
      hotWallets,
    });

  /** Produce one block with what `act` queues; the transfers the reader finds in it. */
  async function block(act: () => Promise<unknown>): Promise<ChainTransfer[]> {
    await act();
    const n = await w.node.produce();
    const read = await reader.readRange(n, n);
    expect(read.blocks.map((b) => b.hash)).toEqual([w.node.blocks[n]!.block.blockID]);
    return read.transfers;
  }

  beforeAll(async () => {
    w = await startTronWorld();
    payee = await w.node.key();
    spender = await w.node.key();
    reader = connect([w.hot.address]);
  });
  afterAll(async () => {
    await w.stop();
  });

  it('counts a TRX TransferContract from a hot wallet once, exact in sun, and nothing sent to it', async () => {
    let id = '';
    const got = await block(async () => {
      id = await w.node.sendTrx(w.hot, payee.address, 1_234_567n);
      await w.node.sendTrx(payee, w.hot.address, 99n);
    });
    expect(got).toEqual([
      expect.objectContaining({
        txHash: id,
        index: null,
        contract: null,
        from: w.hot.address,
        to: payee.address,
        amount: 1_234_567n,
      }),
    ]);
  });

  it('counts a TRC-10 TransferAssetContract under its numeric token id', async () => {
    const got = await block(() => w.node.sendToken(w.hot, payee.address, 5_000n, '1002000'));
    expect(got).toEqual([
      expect.objectContaining({ index: null, contract: '1002000', amount: 5_000n, to: payee.address }),
    ]);
  });

  it('counts a TRC-20 transfer executed on the contract, at its log position, under the contract T-address', async () => {
    let id = '';
    const got = await block(async () => {
      id = await w.node.call(
        w.hot,
        w.usdt.address,
        'transfer(address,uint256)',
        transferParams(payee.address, 2_500_000n),
      );
    });
    expect(got).toEqual([
      expect.objectContaining({
        txHash: id,
        index: 0,
        contract: w.usdt.address,
        from: w.hot.address,
        to: payee.address,
        amount: 2_500_000n,
      }),
    ]);
  });

  it('counts a transferFrom by an approved spender, whoever sent the transaction', async () => {
    await block(() =>
      w.node.call(w.hot, w.usdt.address, 'approve(address,uint256)', transferParams(spender.address, 10n ** 12n)),
    );
    let id = '';
    const got = await block(async () => {
      id = await w.node.call(spender, w.usdt.address, 'transferFrom(address,address,uint256)', [
        { type: 'address', value: w.hot.address },
        ...transferParams(spender.address, 777n),
      ]);
    });
    expect(got).toEqual([
      expect.objectContaining({
        txHash: id,
        from: w.hot.address,
        to: spender.address,
        amount: 777n,
        contract: w.usdt.address,
      }),
    ]);
  });

  it('counts nothing for a reverted TRC-20 call (it is in the block, it paid its fee)', async () => {
    let id = '';
    const got = await block(async () => {
      id = await w.node.call(
        w.hot,
        w.usdt.address,
        'transfer(address,uint256)',
        transferParams(payee.address, 10n ** 30n),
      );
    });
    const n = w.node.blockOf(id);
    const tx = (w.node.blocks[n]!.block.transactions as { txID: string; ret: { contractRet: string }[] }[])[0]!;
    expect(tx.ret[0]!.contractRet).toBe('REVERT');
    expect(got).toEqual([]);
  });

  it('records a TRC-20 the config does not know, with its contract', async () => {
    const odd = await deployTestToken(w.anvil, { symbol: 'ODD', decimals: 18 });
    const oddAddress = tronAddressFromEvm(await odd.getAddress());
    await w.mint(odd, w.hot, 10n ** 20n);
    const got = await block(() =>
      w.node.call(w.hot, oddAddress, 'transfer(address,uint256)', transferParams(payee.address, 10n ** 19n)),
    );
    expect(got).toEqual([expect.objectContaining({ contract: oddAddress, amount: 10n ** 19n })]);
  });

  it('counts call_value (TRX) and call_token_value (TRC-10) sent into a successful contract call, index null and -1', async () => {
    const disperse = tronAddressFromEvm(await (await deployDisperse(w.anvil)).getAddress());
    const got = await block(() =>
      w.node.call(
        w.hot,
        disperse,
        'disperseEther(address[],uint256[])',
        [
          { type: 'address[]', value: [payee.address] },
          { type: 'uint256[]', value: ['300'] },
        ],
        { callValue: 300n, callTokenValue: 40n, tokenId: '1002000' },
      ),
    );
    expect(got).toEqual([
      expect.objectContaining({ index: null, contract: null, to: disperse, amount: 300n }),
      expect.objectContaining({ index: -1, contract: '1002000', to: disperse, amount: 40n }),
    ]);
  });

  it('reads int64 amounts beyond 2^53 exactly (lossless JSON)', async () => {
    const big = 2n ** 53n + 1n;
    const got = await block(() => w.node.sendTrx(w.hot, payee.address, big));
    expect(got.map((t) => t.amount)).toEqual([big]);
  });

  it('reads a range: every block ascending and linked, transfers in block order', async () => {
    const from = w.node.fullHead + 1;
    await w.node.sendTrx(w.hot, payee.address, 1n);
    await w.node.produce();
    await w.node.produce();
    await w.node.sendTrx(w.hot, payee.address, 2n);
    const to = await w.node.produce();
    const read = await reader.readRange(from, to);
    expect(read.blocks.map((b) => b.number)).toEqual([from, from + 1, to]);
    expect(read.blocks[1]!.parentHash).toBe(read.blocks[0]!.hash);
    expect(read.transfers.map((t) => [t.block, t.amount])).toEqual([
      [from, 1n],
      [to, 2n],
    ]);
    expect(await reader.head()).toBe(to);
  });
});

describe('TronChainReader: a contract hot wallet (internal transactions)', () => {
  let w: TronWorld;
  let owner: TronKey;
  let wallet: string;
  let payees: TronKey[];

  beforeAll(async () => {
    w = await startTronWorld();
    owner = await w.node.key();
    const contract = await deploy(w.anvil, ForwardingWallet, [], owner.evm);
    await w.anvil.rpc('anvil_setBalance', [await contract.getAddress(), '0xf4240']);
    wallet = tronAddressFromEvm(await contract.getAddress());
    payees = [await w.node.key(), await w.node.key()];
  });
  afterAll(async () => {
    await w.stop();
  });

  const reader = (jsonRpc: boolean, url = w.server.url) =>
    tronReader({
      http: [url],
      ...(jsonRpc && { jsonRpc: [`${url}/jsonrpc`] }),
      genesisBlockId: w.node.genesisBlockId,
      hotWallets: [wallet],
    });
  const send = (to: TronKey[], amounts: bigint[]) =>
    w.node.call(owner, wallet, 'send(address[],uint256[])', [
      { type: 'address[]', value: to.map((p) => p.address) },
      { type: 'uint256[]', value: amounts.map(String) },
    ]);

  it('counts each value an internal transaction pays out, at -(2 + k), the same on both read paths', async () => {
    const id = await send(payees, [1_000n, 2_000n]);
    const n = await w.node.produce();
    for (const r of [reader(true), reader(false)]) {
      const { transfers } = await r.readRange(n, n);
      expect(transfers).toEqual([
        expect.objectContaining({
          txHash: id,
          index: -2,
          contract: null,
          from: wallet,
          to: payees[0]!.address,
          amount: 1_000n,
        }),
        expect.objectContaining({
          txHash: id,
          index: -3,
          contract: null,
          from: wallet,
          to: payees[1]!.address,
          amount: 2_000n,
        }),
      ]);
    }
  });

  it('counts nothing when the whole call reverts (the internal transactions are rejected)', async () => {
    await w.node.call(owner, wallet, 'sendThenRevert(address,uint256)', [
      { type: 'address', value: payees[0]!.address },
      { type: 'uint256', value: '10' },
    ]);
    const n = await w.node.produce();
    expect((await reader(false).readRange(n, n)).transfers).toEqual([]);
  });

  it('does not count a rejected internal transaction inside a successful call', async () => {
    const refuses = tronAddressFromEvm(await (await deployRevertOnReceive(w.anvil)).getAddress());
    const id = await w.node.call(owner, wallet, 'trySend(address,uint256)', [
      { type: 'address', value: refuses },
      { type: 'uint256', value: '10' },
    ]);
    const n = await w.node.produce();
    const info = w.node.blocks[n]!.infos.find((i) => i.id === id)!;
    expect(info.receipt).toMatchObject({ result: 'SUCCESS' });
    expect(info.internal_transactions).toEqual([expect.objectContaining({ rejected: true })]);
    for (const r of [reader(true), reader(false)]) expect((await r.readRange(n, n)).transfers).toEqual([]);
  });

  it('refuses to read a node that does not record internal transactions: a ChainReadError, never a silent zero', async () => {
    await send([payees[0]!], [5n]);
    const n = await w.node.produce();
    const blind = await w.serve({ hideInternal: true });
    for (const jsonRpc of [true, false]) {
      const err = await reader(jsonRpc, blind.url)
        .readRange(n, n)
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ChainReadError);
      expect((err as Error).message).toContain('vm.saveInternalTx');
      expect((err as Error).message).toContain(wallet);
    }
  });
});
