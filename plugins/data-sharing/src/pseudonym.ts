// The TTP's keyed pseudonym function: HMAC-SHA-256 under a secret only the TTP holds, over the project
// and the records of one person (cluster). Without the key nobody can compute or check a pseudonym;
// the same person gets different pseudonyms in different projects.
import { createHmac } from 'node:crypto';

/** `psn-` and 32 hex digits; members are the cluster's records as `site|token`, in any order. */
export function pseudonymOf(key: string, project: string, members: readonly string[]): string {
  if (!key) throw new Error('no pseudonym key configured at the TTP');
  const mac = createHmac('sha256', key).update(project).update('\u0000');
  for (const m of [...members].sort()) mac.update(m).update('\u0000');
  return `psn-${mac.digest('hex').slice(0, 32)}`;
}
