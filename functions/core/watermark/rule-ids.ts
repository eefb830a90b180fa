/** The rule id a nonce-watermark trip carries (signers, mirrors and pages treat it like any trip). */
export function watermarkRuleId(chain: string): string {
  return `watermark-${chain}-nonce`;
}

/** The rule id an outpoint-watermark trip carries. */
export function outpointRuleId(chain: string): string {
  return `watermark-${chain}-outpoint`;
}
