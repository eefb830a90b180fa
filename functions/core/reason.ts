import { ResetRejectedError } from './errors.ts';

export const MIN_REASON_LENGTH = 10;
const MAX_REASON_LENGTH = 2000;
/** Line breaks and other control characters: C0, DEL, C1, and the Unicode line and paragraph separators. */
function isControl(char: string): boolean {
  const code = char.codePointAt(0) ?? 0;
  return code < 0x20 || (code >= 0x7f && code <= 0x9f) || code === 0x2028 || code === 0x2029;
}

/**
 * An operator's reason for a reset, a reset request or a manual trip, trimmed. It is quoted inside pages
 * and audit records, so it must be one line: a line break could add a forged line such as "Approved by …"
 * to the page the other operator reads (security review §6).
 */
export function checkReason(text: string, what = 'what was reviewed, by whom'): string {
  const reason = text.trim();
  if (reason.length < MIN_REASON_LENGTH) {
    throw new ResetRejectedError(`a reason of at least ${MIN_REASON_LENGTH} characters is required (${what})`);
  }
  if (reason.length > MAX_REASON_LENGTH) {
    throw new ResetRejectedError(`the reason is longer than ${MAX_REASON_LENGTH} characters`);
  }
  if ([...reason].some(isControl)) {
    throw new ResetRejectedError(
      'the reason must be one line: no line breaks or control characters (it is quoted in pages and the audit log)',
    );
  }
  return reason;
}
