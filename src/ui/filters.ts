import { CATEGORIES, type Category, OUTCOMES, type Outcome } from '../core/event.js';
import type { AuditQuery } from '../store/store.js';

/** Quick time ranges of the filter form, in milliseconds. */
export const QUICK_RANGES: Record<string, { label: string; ms: number }> = {
  '15m': { label: 'Last 15 minutes', ms: 15 * 60_000 },
  '1h': { label: 'Last hour', ms: 3_600_000 },
  '24h': { label: 'Last 24 hours', ms: 86_400_000 },
  '7d': { label: 'Last 7 days', ms: 7 * 86_400_000 },
  '30d': { label: 'Last 30 days', ms: 30 * 86_400_000 },
};

/** The filters of the event list as they appear in the URL (so a view can be shared). */
export interface FilterState {
  range: string;
  from: string;
  to: string;
  category: Category[];
  outcome: Outcome[];
  action: string;
  tenant: string;
  actor: string;
  actorType: string;
  targetType: string;
  targetId: string;
  path: string;
  status: string;
  q: string;
  requestId: string;
}

/** URL parameter names, in the order they are written. */
export const FILTER_KEYS = [
  'range',
  'from',
  'to',
  'category',
  'outcome',
  'action',
  'tenant',
  'actor',
  'actorType',
  'targetType',
  'targetId',
  'path',
  'status',
  'q',
  'requestId',
] as const satisfies readonly (keyof FilterState)[];

const MAX_PARAM = 500;

function text(params: URLSearchParams, name: string): string {
  return (params.get(name) ?? '').trim().slice(0, MAX_PARAM);
}

/** Reads the filters from URL parameters; unknown values are kept so the form can show them with an error. */
export function readFilters(params: URLSearchParams): FilterState {
  return {
    range: text(params, 'range'),
    from: text(params, 'from'),
    to: text(params, 'to'),
    category: params
      .getAll('category')
      .filter((c): c is Category => (CATEGORIES as readonly string[]).includes(c)),
    outcome: params
      .getAll('outcome')
      .filter((o): o is Outcome => (OUTCOMES as readonly string[]).includes(o)),
    action: text(params, 'action'),
    tenant: text(params, 'tenant'),
    actor: text(params, 'actor'),
    actorType: text(params, 'actorType'),
    targetType: text(params, 'targetType'),
    targetId: text(params, 'targetId'),
    path: text(params, 'path'),
    status: text(params, 'status'),
    q: text(params, 'q'),
    requestId: text(params, 'requestId'),
  };
}

/** An instant typed in the form: ISO 8601, or `YYYY-MM-DDTHH:MM` from a datetime-local input (read as UTC). */
export function parseInstant(value: string): Date | null {
  if (!value) return null;
  const local = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?)?$/.test(value);
  const date = new Date(local ? `${value.length === 10 ? `${value}T00:00` : value}Z` : value);
  return Number.isNaN(date.getTime()) ? null : date;
}

/**
 * Turns filters into an {@link AuditQuery}; `errors` names what could not be read (the page shows them
 * and lists nothing rather than ignoring a filter the user typed).
 */
export function toQuery(filters: FilterState, now: Date): { query: AuditQuery; errors: string[] } {
  const query: AuditQuery = {};
  const errors: string[] = [];
  if (filters.range) {
    const range = QUICK_RANGES[filters.range];
    if (range) query.from = new Date(now.getTime() - range.ms);
    else errors.push(`Unknown time range "${filters.range}".`);
  }
  if (filters.from) {
    const from = parseInstant(filters.from);
    if (from) query.from = from;
    else errors.push('"From" is not a date and time.');
  }
  if (filters.to) {
    const to = parseInstant(filters.to);
    if (to) query.to = to;
    else errors.push('"To" is not a date and time.');
  }
  if (filters.category.length > 0) query.category = filters.category;
  if (filters.outcome.length > 0) query.outcome = filters.outcome;
  if (filters.action) {
    if (/\s/.test(filters.action)) errors.push('An action has no spaces (use user.* for a prefix).');
    else query.action = filters.action;
  }
  if (filters.tenant) query.tenantId = filters.tenant;
  if (filters.actor) query.actorId = filters.actor;
  if (filters.actorType) query.actorType = filters.actorType;
  if (filters.targetType) query.targetType = filters.targetType;
  if (filters.targetId) query.targetId = filters.targetId;
  if (filters.path) query.pathPrefix = filters.path;
  if (filters.status) {
    if (/^[1-5]xx$/i.test(filters.status))
      query.status = filters.status.toLowerCase() as `${1 | 2 | 3 | 4 | 5}xx`;
    else if (/^\d{3}$/.test(filters.status)) query.status = Number(filters.status);
    else errors.push('Status is a code such as 404 or a class such as 5xx.');
  }
  if (filters.q) query.text = filters.q;
  if (filters.requestId) query.requestId = filters.requestId;
  return { query, errors };
}

/** URL parameters of filters (empty ones left out), plus `extra` (a cursor, a format). */
export function filterParams(
  filters: Partial<FilterState>,
  extra: Record<string, string> = {},
): URLSearchParams {
  const params = new URLSearchParams();
  for (const key of FILTER_KEYS) {
    const value = filters[key];
    if (Array.isArray(value)) for (const v of value) params.append(key, v);
    else if (typeof value === 'string' && value !== '') params.set(key, value);
  }
  for (const [k, v] of Object.entries(extra)) params.set(k, v);
  return params;
}

/** True when any filter is set. */
export function hasFilters(filters: FilterState): boolean {
  return FILTER_KEYS.some((key) => {
    const value = filters[key];
    return Array.isArray(value) ? value.length > 0 : value !== '';
  });
}
