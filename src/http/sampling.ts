import type { ResolvedHttpAuditOptions, StatusPattern } from './config.js';

/** Decides, once the response is known, whether an access event is kept. */
export type Sampler = (method: string, status: number, requestId: string) => boolean;

/**
 * Compiles sampling rules. The first rule whose methods and statuses match gives the keep rate, else
 * `rate`. The decision hashes the request id, so it is stable: the same request id is kept or dropped
 * everywhere, and a trace is never half sampled. (Failures are kept before the sampler is asked.)
 */
export function createSampler({ rate, rules }: ResolvedHttpAuditOptions['sampling']): Sampler {
  if (rate >= 1 && rules.every((r) => r.rate >= 1)) return () => true;
  return (method, status, requestId) => {
    const rule = rules.find(
      (r) =>
        (r.methods === undefined || r.methods.includes(method)) &&
        (r.statuses === undefined || r.statuses.some((s) => statusMatches(s, status))),
    );
    const keep = rule ? rule.rate : rate;
    if (keep >= 1) return true;
    if (keep <= 0) return false;
    return unitHash(requestId) < keep;
  };
}

function statusMatches(pattern: StatusPattern, status: number): boolean {
  if (typeof pattern === 'number') return pattern === status;
  return Math.floor(status / 100) === Number(pattern[0]);
}

/** FNV-1a of the string, mixed (murmur3 finaliser) so similar ids spread evenly, mapped to [0, 1). */
export function unitHash(value: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < value.length; i++) {
    hash ^= value.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return (hash >>> 0) / 0x1_0000_0000;
}
