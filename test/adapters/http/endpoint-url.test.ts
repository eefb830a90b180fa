/**
 * Endpoint URLs carry API keys (in the user info, the query or a path segment). The one redactor
 * both chain adapters use must drop all of them, since the redacted name ends up in errors, logs,
 * blindness pages (email, SMS, PagerDuty) and the console's chain-health view. Review §7 examples.
 */
import { describe, expect, it } from 'vitest';
import { redactEndpoint } from '../../../functions/adapters/http/endpoint-url.ts';

describe('redactEndpoint', () => {
  it.each([
    // EVM providers
    ['https://eth-mainnet.g.alchemy.com/v2/AbCdEfGhIjKlMnOpQrStUv', 'https://eth-mainnet.g.alchemy.com/v2/***'],
    ['https://mainnet.infura.io/v3/0123456789abcdef0123456789abcdef', 'https://mainnet.infura.io/v3/***'],
    ['https://eth.example/v3/short-key-123', 'https://eth.example/v3/***'],
    ['https://rpc.ankr.com/eth/0123456789abcdef0123?apikey=zzz', 'https://rpc.ankr.com/eth/***'],
    ['https://user:secret@rpc.example.com:8545/?apikey=123', 'https://rpc.example.com:8545'],
    ['https://name.quiknode.pro/9f8e7d6c5b4a/', 'https://name.quiknode.pro/***/'],
    ['https://bsc-dataseed.binance.org/', 'https://bsc-dataseed.binance.org'],
    ['https://rpc.example.com/deadbeefcafe12', 'https://rpc.example.com/***'],
    ['https://rpc.example.com/Mainnet', 'https://rpc.example.com/***'],
    // Bitcoin Core and Esplora
    ['http://rpcuser:rpcpassword@127.0.0.1:18443/wallet/hot-wallet', 'http://127.0.0.1:18443/wallet/hot-wallet'],
    ['https://blockstream.info/api', 'https://blockstream.info/api'],
    ['https://mempool.space/testnet/api?token=abcd', 'https://mempool.space/testnet/api'],
    ['https://btc.getblock.io/mainnet/Xk2pQ9/', 'https://btc.getblock.io/mainnet/***/'],
    ['http://127.0.0.1:8545#frag', 'http://127.0.0.1:8545'],
    ['not a url', '(invalid URL)'],
  ])('%s → %s', (url, shown) => {
    expect(redactEndpoint(url)).toBe(shown);
  });

  it('never shows a key: anything with an upper-case letter, a digit inside, or 16+ characters (property)', () => {
    const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-';
    let seed = 7;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let i = 0; i < 500; i++) {
      const length = 6 + Math.floor(random() * 40);
      let key = '';
      for (let k = 0; k < length; k++) key += alphabet[Math.floor(random() * alphabet.length)];
      // What tells a key from a word like "mainnet", "v3" or "api" (see redactEndpoint).
      if (!/[A-Z]|\d[^\d]|^.{16,}$/.test(key)) key = `Q7${key}`;
      for (const url of [
        `https://rpc.example.com/v2/${key}`,
        `https://rpc.example.com/${key}/`,
        `https://rpc.example.com/eth?apikey=${key}`,
        `https://u:${key}@rpc.example.com/`,
      ]) {
        expect(redactEndpoint(url)).not.toContain(key);
      }
    }
  });
});
