/**
 * An endpoint's answer is read with a byte cap: a 537 MB answer took a poller from 103 MB to 865 MB
 * of memory (review §6), and Lambda has 512 MB. Real HTTP server on 127.0.0.1.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { BodyTooLargeError, readCappedText } from '../../../functions/adapters/http/capped-body.ts';

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  server?.close();
  server = undefined;
});

async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  server = createServer(handler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

describe('readCappedText', () => {
  it('reads an answer within the cap', async () => {
    const url = await serve((_req, res) => res.end('é'.repeat(1000)));
    expect(await readCappedText(await fetch(url), 4096)).toBe('é'.repeat(1000));
  });

  it('refuses a declared Content-Length over the cap before reading the body', async () => {
    let written = 0;
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': String(64 * 1024 * 1024) });
      const chunk = Buffer.alloc(64 * 1024);
      const pump = () => {
        while (written < 64 * 1024 * 1024 && res.write(chunk)) written += chunk.length;
      };
      res.on('drain', pump);
      pump();
    });
    const error = await readCappedText(await fetch(url), 1024 * 1024).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BodyTooLargeError);
    expect((error as Error).message).toBe('answer of 67108864 bytes exceeds the cap of 1048576 bytes');
  });

  it('stops a chunked answer at the cap, however much the server would still send', async () => {
    let aborted = false;
    const url = await serve((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(256 * 1024, 'a');
      const pump = () => {
        while (!res.destroyed && res.write(chunk)) {}
      };
      res.on('drain', pump);
      req.socket.on('close', () => {
        aborted = true;
      });
      pump();
    });
    const before = process.memoryUsage().rss;
    const started = Date.now();
    const error = await readCappedText(await fetch(url), 2 * 1024 * 1024).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BodyTooLargeError);
    expect((error as Error).message).toMatch(/^answer exceeds the cap of 2097152 bytes/);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(process.memoryUsage().rss - before).toBeLessThan(64 * 1024 * 1024);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(aborted).toBe(true); // the connection is dropped, not drained
  });
});
