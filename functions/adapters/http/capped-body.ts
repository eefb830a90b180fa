/**
 * An endpoint's answer, read with a byte cap. `response.text()` buffers whatever the endpoint sends
 * until the timeout: one malicious or broken endpoint answering hundreds of megabytes would take the
 * poller's memory past Lambda's limit on every run and leave its chain unwatched. The cap is checked
 * against Content-Length before reading and against the bytes received while streaming; the
 * connection is dropped as soon as it is passed. The caller treats it as that endpoint failing.
 */

/** As the config's `rpcMaxResponseBytes` default: above a batch of 100 full mainnet blocks, far below 512 MB. */
export const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

export class BodyTooLargeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BodyTooLargeError';
  }
}

export async function readCappedText(response: Response, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw new BodyTooLargeError(`answer of ${declared} bytes exceeds the cap of ${maxBytes} bytes`);
  }
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let received = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    received += value.byteLength;
    if (received > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new BodyTooLargeError(`answer exceeds the cap of ${maxBytes} bytes (stopped after ${received} bytes)`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, received).toString('utf8');
}
