/**
 * How an endpoint URL is named wherever people or machines can read it: errors, logs, blindness
 * pages (email, SMS, PagerDuty), the console's chain-health view. Provider URLs carry API keys in the
 * user info (`https://user:key@…`), the query (`?apikey=…`) or a path segment (`/v3/<key>`), so the
 * name keeps only the scheme, the host and the path segments that read as words.
 */

/**
 * A path segment kept as it is: lower-case letters, dots and hyphens with at most two trailing
 * digits, at most 15 characters, and not all hex digits from 8 characters on (`v3`, `eth`,
 * `mainnet`, `bsc-dataseed`, `hot-wallet`, `api`). Anything else (an upper-case letter, a digit
 * inside, long, hex) may be a key and is shown as `***`.
 */
const WORD = /^[a-z][a-z.-]*\d{0,2}$/;
const HEX = /^[0-9a-f]{8,}$/;

function isWord(segment: string): boolean {
  return segment.length <= 15 && WORD.test(segment) && !HEX.test(segment);
}

export function redactEndpoint(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return '(invalid URL)';
  }
  const path = u.pathname
    .split('/')
    .map((segment) => (segment === '' || isWord(segment) ? segment : '***'))
    .join('/');
  return `${u.protocol}//${u.host}${path === '/' ? '' : path}`;
}

/** An endpoint as requests use it: fetch refuses URLs with user info, so it travels as Basic auth. */
export interface HttpTarget {
  /** The URL without user info (it may still hold a key in its path or query: never show it). */
  url: string;
  /** Safe to log, page and show: redactEndpoint(url). */
  label: string;
  authorization: string | undefined;
}

export function httpTarget(raw: string): HttpTarget {
  const url = new URL(raw);
  let authorization: string | undefined;
  if (url.username || url.password) {
    const user = decodeURIComponent(url.username);
    const pass = decodeURIComponent(url.password);
    authorization = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
    url.username = '';
    url.password = '';
  }
  return { url: url.toString(), label: redactEndpoint(raw), authorization };
}

/**
 * An error message from the HTTP stack about `target`, with the URL (which may hold a key) replaced
 * by its label: fetch's own messages quote the URL they were given.
 */
export function scrubbed(message: string, target: HttpTarget): string {
  return message.split(target.url).join(target.label).split(target.url.replace(/\/$/, '')).join(target.label);
}
