import { type Address, generateKeyPairSigner, type Instruction, type KeyPairSigner } from '@solana/kit';
import { getCreateAccountInstruction } from '@solana-program/system';
import {
  findAssociatedTokenPda,
  getCreateAssociatedTokenIdempotentInstruction,
  getInitializeMint2Instruction,
  getMintSize,
  getMintToInstruction,
} from '@solana-program/token';
import { type TOKEN_2022_PROGRAM, TOKEN_PROGRAM } from '../../../functions/adapters/solana/solana-outflows.ts';
import type { SolanaNode } from './solana-node.ts';

/** SPL Token or Token-2022: the same instruction layouts, another program. */
export type TokenProgram = typeof TOKEN_PROGRAM | typeof TOKEN_2022_PROGRAM;

export interface TestMint {
  address: Address;
  decimals: number;
  program: Address;
  authority: KeyPairSigner;
}

/** Create a mint (no extensions) owned by `program`, in the current slot. */
export async function createMint(
  node: SolanaNode,
  decimals: number,
  program: TokenProgram = TOKEN_PROGRAM,
): Promise<TestMint> {
  const authority = await node.wallet(10n);
  const mint = await generateKeyPairSigner();
  const space = getMintSize();
  const sent = await node.send(authority, [
    getCreateAccountInstruction({
      payer: authority,
      newAccount: mint,
      lamports: node.svm.minimumBalanceForRentExemption(BigInt(space)),
      space,
      programAddress: program as Address,
    }),
    getInitializeMint2Instruction(
      { mint: mint.address, decimals, mintAuthority: authority.address },
      { programAddress: program as Address },
    ),
  ]);
  if (!sent.ok) throw new Error('stand-in: creating a mint failed');
  return { address: mint.address, decimals, program: program as Address, authority };
}

/** The associated token account of `owner` for `mint`. */
export async function ata(mint: TestMint, owner: Address): Promise<Address> {
  const [address] = await findAssociatedTokenPda({ owner, mint: mint.address, tokenProgram: mint.program });
  return address;
}

/** The instruction creating `owner`'s token account for `mint`, paid by `payer` (the ATA program CPIs into System). */
export async function createAtaInstruction(mint: TestMint, payer: KeyPairSigner, owner: Address): Promise<Instruction> {
  return getCreateAssociatedTokenIdempotentInstruction({
    payer,
    ata: await ata(mint, owner),
    owner,
    mint: mint.address,
    tokenProgram: mint.program,
  });
}

/** Give `owner` a token account holding `amount` base units (in the current slot). */
export async function fund(node: SolanaNode, mint: TestMint, owner: Address, amount: bigint): Promise<Address> {
  const account = await ata(mint, owner);
  const sent = await node.send(mint.authority, [
    await createAtaInstruction(mint, mint.authority, owner),
    getMintToInstruction(
      { mint: mint.address, token: account, mintAuthority: mint.authority, amount },
      { programAddress: mint.program },
    ),
  ]);
  if (!sent.ok) throw new Error('stand-in: minting failed');
  return account;
}
