import { PublishError } from '../../core/errors.ts';
import type { PagePublisher } from '../../core/ports.ts';
import type { Page } from '../../core/state.ts';
import { type Clock, systemClock } from '../../core/time.ts';
import { pageJson } from './page-format.ts';
import { describeError } from './retry.ts';

export interface ConsolePageSinkOptions {
  /** @default process.stdout */
  readonly stream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /**
   * Box width in columns, 40 to 160.
   * @default the terminal's width, at most 100; 80 when not a terminal
   */
  readonly width?: number;
  /** @default true on a terminal unless NO_COLOR is set */
  readonly color?: boolean;
  /**
   * Detail lines shown before the rest is summarised as "… N more lines".
   * @default 16
   */
  readonly maxDetailLines?: number;
  /** Stamps the box with the time it was shown. @default systemClock */
  readonly clock?: Clock;
}

const KIND_COLOR: Record<Page['kind'], string> = {
  trip: '31',
  escalation: '31',
  'actuator-failure': '31',
  tamper: '31',
  config: '33',
  blind: '35',
  warn: '33',
  reset: '32',
};

/**
 * The local runtime's pager: draws each page as a box on a stream so `npm start` shows trips, warnings
 * and blindness the moment they happen.
 */
export class ConsolePageSink implements PagePublisher {
  readonly #stream: NodeJS.WritableStream;
  readonly #width: number;
  readonly #color: boolean;
  readonly #maxDetailLines: number;
  readonly #clock: Clock;

  constructor(options: ConsolePageSinkOptions = {}) {
    const stream = options.stream ?? process.stdout;
    this.#stream = stream;
    const terminalWidth = stream.isTTY && stream.columns ? Math.min(stream.columns, 100) : 80;
    this.#width = Math.max(40, Math.min(160, Math.floor(options.width ?? terminalWidth)));
    this.#color = options.color ?? (stream.isTTY === true && !process.env.NO_COLOR);
    this.#maxDetailLines = Math.max(1, options.maxDetailLines ?? 16);
    this.#clock = options.clock ?? systemClock;
  }

  async publish(page: Page): Promise<void> {
    const text = formatPageBox(page, {
      width: this.#width,
      color: this.#color,
      maxDetailLines: this.#maxDetailLines,
      shownAtMs: this.#clock.now(),
    });
    try {
      await new Promise<void>((resolve, reject) => {
        this.#stream.write(text, (error) => (error ? reject(error) : resolve()));
      });
    } catch (error) {
      throw new PublishError(`console: could not write ${page.kind} page ${page.id}: ${describeError(error)}`, {
        cause: error,
      });
    }
  }
}

export interface BoxOptions {
  width: number;
  color: boolean;
  maxDetailLines: number;
  shownAtMs: number;
}

/** The boxed rendering, exported for the CLI's `status` view and for tests. */
export function formatPageBox(page: Page, options: BoxOptions): string {
  const inner = options.width - 4;
  const paint = (s: string, code: string) => (options.color ? `\u001b[${code}m${s}\u001b[0m` : s);
  const border = (s: string) => paint(s, KIND_COLOR[page.kind]);
  const rule = (left: string, label: string, fill: string, right: string) => {
    const head = label ? `${fill} ${label} ` : '';
    return border(`${left}${head}${fill.repeat(Math.max(0, options.width - 2 - width(head)))}${right}`);
  };
  const row = (s: string, style?: string) =>
    `${border('┃')} ${style ? paint(s, style) : s}${' '.repeat(Math.max(0, inner - width(s)))} ${border('┃')}`;

  const lines: string[] = [];
  lines.push(rule('┏', `${page.kind.toUpperCase()} · page ${terminalSafe(page.id)}`, '━', '┓'));
  for (const line of wrap(terminalSafe(page.subject), inner)) lines.push(row(line, '1'));
  lines.push(rule('┠', '', '─', '┨'));
  for (const paragraph of terminalSafe(page.text).split('\n')) {
    for (const line of wrap(paragraph, inner)) lines.push(row(line));
  }
  const detailLines = formatDetails(page.details, inner);
  if (detailLines.length > 0) {
    lines.push(rule('┠', 'details', '─', '┨'));
    const shown = detailLines.length > options.maxDetailLines ? options.maxDetailLines - 1 : detailLines.length;
    for (const line of detailLines.slice(0, shown)) lines.push(row(line));
    if (shown < detailLines.length) lines.push(row(`… ${detailLines.length - shown} more lines`));
  }
  lines.push(rule('┗', new Date(options.shownAtMs).toISOString(), '━', '┛'));
  return `\n${lines.join('\n')}\n`;
}

function formatDetails(details: Record<string, unknown>, inner: number): string[] {
  const entries = Object.entries(details).filter(([, v]) => v !== undefined);
  if (entries.length === 0) return [];
  const labelWidth = Math.min(18, Math.max(...entries.map(([k]) => width(k))));
  const valueWidth = Math.max(10, inner - labelWidth - 2);
  const lines: string[] = [];
  for (const [key, value] of entries) {
    const plain = typeof value === 'string' || typeof value === 'bigint' || typeof value === 'number';
    const rendered = terminalSafe(plain ? String(value) : pageJson(value)).replaceAll('\n', ' ');
    const label = terminalSafe(key);
    const chunks = hardWrap(rendered, valueWidth);
    chunks.forEach((chunk, i) => {
      const prefix = i === 0 ? label.padEnd(labelWidth) : ' '.repeat(labelWidth);
      lines.push(`${prefix}  ${chunk}`);
    });
  }
  return lines;
}

/**
 * Page text can carry on-chain data (token names, memos): control characters, escape sequences
 * included, must not reach the terminal. Tabs become spaces; newlines stay.
 */
function terminalSafe(text: string): string {
  return text
    .replaceAll('\t', '  ')
    .split('\n')
    .map((line) => line.replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, ''))
    .join('\n');
}

function width(s: string): number {
  return [...s].length;
}

/** Word wrap; words longer than a line are split. */
function wrap(text: string, max: number): string[] {
  const words = text.split(' ').filter((w) => w.length > 0);
  if (words.length === 0) return [''];
  const lines: string[] = [];
  let current = '';
  for (const word of words) {
    for (const piece of hardWrap(word, max)) {
      if (current === '') current = piece;
      else if (width(current) + 1 + width(piece) <= max) current += ` ${piece}`;
      else {
        lines.push(current);
        current = piece;
      }
    }
  }
  lines.push(current);
  return lines;
}

function hardWrap(text: string, max: number): string[] {
  const chars = [...text];
  if (chars.length <= max) return [text];
  const out: string[] = [];
  for (let i = 0; i < chars.length; i += max) out.push(chars.slice(i, i + max).join(''));
  return out;
}
