/** Proxy rejection reasons, normalized to a fixed set (the messages themselves vary without bound). */
export const REJECTION_REASONS = ['timeout', 'auth', 'not-allowed', 'tls', 'limit', 'protocol', 'other'] as const;
export type RejectionReason = (typeof REJECTION_REASONS)[number];

export function rejectionReason(message: string): RejectionReason {
  if (/time(d)? ?out/i.test(message)) return 'timeout';
  if (/0x86|\btls\b/i.test(message)) return 'tls';
  if (/password|credential|username|auth/i.test(message)) return 'auth';
  if (/not allowed|forbidden|refus|denied|stranger|locked out|no key/i.test(message)) return 'not-allowed';
  if (/limit|too many|at most/i.test(message)) return 'limit';
  if (/unsupported|unknown|invalid|malformed|version|byte|command|address type|handshake/i.test(message)) return 'protocol';
  return 'other';
}
