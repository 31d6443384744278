/** What erasure replaces in one event, and with what. */
export interface ScrubRules {
  /** The subject's id: replaced wherever a string equals it exactly. */
  subject: string;
  /** Replaces the subject's id and name. */
  pseudonym: string;
  /** Replaces other personal values (IP, user agent, their fields, bodies). */
  erased: string;
  /** Names, emails and other identifiers: replaced wherever they appear inside a string (any case). */
  identifiers: readonly string[];
}

/** Keys whose values are taken as identifiers of the subject when found on their own record. */
export const PERSONAL_KEY =
  /(e-?mail|name|phone|mobile|address|street|city|zip|postal|birth|ssn|passport|iban|ip)/i;

const MIN_IDENTIFIER = 4;

function escapeRegExp(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Identifiers worth searching for: long enough not to hit unrelated words, longest first. */
export function usableIdentifiers(values: Iterable<string>): string[] {
  const out = new Set<string>();
  for (const value of values) {
    const trimmed = value.trim();
    if (trimmed.length >= MIN_IDENTIFIER) out.add(trimmed);
  }
  return [...out].sort((a, b) => b.length - a.length);
}

/** Every string value of `value`, deeply (for collecting identifiers). */
export function stringsUnder(value: unknown, keyFilter?: RegExp, key = ''): string[] {
  if (typeof value === 'string') return !keyFilter || keyFilter.test(key) ? [value] : [];
  if (Array.isArray(value)) return value.flatMap((v) => stringsUnder(v, keyFilter, key));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) =>
      stringsUnder(v, keyFilter, k),
    );
  }
  return [];
}

/**
 * Returns the event data with the subject's personal data replaced, or null when nothing changed. Only
 * the personal part of the event changes (never id, time, category, action, outcome, tenant or types),
 * so the chain, which covers that part through a digest, still verifies.
 *
 * - Where the subject is the actor: actor id and label become the pseudonym; IP, user agent and session
 *   are erased; so are the request's query, headers and bodies (what they sent and got back).
 * - Where the subject is the target (their own record): target id and label become the pseudonym, and
 *   every string in `changes` is erased (their fields, before and after).
 * - Everywhere: a string equal to the subject id becomes the pseudonym, and each identifier (name,
 *   email...) inside any string is replaced by the pseudonym.
 */
export function scrubEvent(data: Record<string, unknown>, rules: ScrubRules): Record<string, unknown> | null {
  const out = structuredClone(data);
  const pattern =
    rules.identifiers.length > 0 ? new RegExp(rules.identifiers.map(escapeRegExp).join('|'), 'gi') : null;
  const replaceIn = (value: unknown): unknown => {
    if (typeof value === 'string') {
      if (value === rules.subject) return rules.pseudonym;
      return pattern ? value.replace(pattern, rules.pseudonym) : value;
    }
    if (Array.isArray(value)) return value.map(replaceIn);
    if (value !== null && typeof value === 'object') {
      const copy: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) copy[k] = replaceIn(v);
      return copy;
    }
    return value;
  };
  const erase = (value: unknown): unknown => {
    if (typeof value === 'string') return rules.erased;
    if (Array.isArray(value)) return value.map(erase);
    if (value !== null && typeof value === 'object') {
      const copy: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) copy[k] = erase(v);
      return copy;
    }
    return value;
  };
  const actor = out.actor as Record<string, unknown> | undefined;
  const target = out.target as Record<string, unknown> | undefined;
  const isActor = actor?.id === rules.subject;
  const isTarget = target?.id === rules.subject;
  if (actor && isActor) {
    actor.id = rules.pseudonym;
    if (actor.label !== undefined) actor.label = rules.pseudonym;
    for (const key of ['ip', 'userAgent', 'sessionId'])
      if (actor[key] !== undefined) actor[key] = rules.erased;
    const request = out.request as Record<string, unknown> | undefined;
    if (request) {
      for (const key of ['query', 'headers', 'responseHeaders', 'body', 'responseBody']) {
        if (request[key] !== undefined) request[key] = erase(request[key]);
      }
    }
  }
  if (target && isTarget) {
    target.id = rules.pseudonym;
    if (target.label !== undefined) target.label = rules.pseudonym;
    if (out.changes !== undefined) out.changes = erase(out.changes);
  }
  // Everything else that may carry an identifier; the clear fields (id, time, category, action,
  // outcome, tenant, types) are never touched.
  for (const key of Object.keys(out)) {
    if (['id', 'occurredAt', 'category', 'action', 'outcome', 'tenantId', 'seq', 'hash'].includes(key))
      continue;
    const value = out[key];
    if ((key === 'actor' || key === 'target' || key === 'request') && value && typeof value === 'object') {
      const nested = value as Record<string, unknown>;
      const keep = key === 'request' ? ['method', 'route', 'status'] : ['type'];
      for (const k of Object.keys(nested)) if (!keep.includes(k)) nested[k] = replaceIn(nested[k]);
      continue;
    }
    out[key] = replaceIn(value);
  }
  return JSON.stringify(out) === JSON.stringify(data) ? null : out;
}
