/** JSON.stringify replacer: bigint as a decimal string (amounts must never lose precision). */
export function jsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}
