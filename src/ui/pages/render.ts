import type { AuditEvent } from '../../core/event.js';
import { REDACTED } from '../../core/redact.js';
import { html, type SafeHtml } from '../html.js';

/** Longest string shown in full on a detail page; the rest is summarised (a 1 MB field stays readable). */
export const MAX_SHOWN_CHARS = 20_000;
/** Longest cell in the list. */
export const MAX_CELL_CHARS = 160;

/** Cuts long text for display, saying how much was left out. */
export function clip(text: string, max: number): SafeHtml {
  if (text.length <= max) return html`${text}`;
  return html`${text.slice(0, max)}<span class="clipped"> … (${(text.length - max).toLocaleString('en')} more characters)</span>`;
}

/** An instant as people read it, with the exact ISO value in a `<time>` element. */
export function time(date: Date): SafeHtml {
  const iso = date.toISOString();
  return html`<time datetime="${iso}" title="${iso}">${iso.slice(0, 19).replace('T', ' ')}</time>`;
}

export function outcomeBadge(outcome: string): SafeHtml {
  return html`<span class="badge outcome-${outcome}">${outcome}</span>`;
}

export function maskedBadge(): SafeHtml {
  return html`<mark class="masked" title="Masked by Auditkit before storage">masked</mark>`;
}

/** Whether a value is, or holds, a masked secret. */
export function containsMasked(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return value.includes(REDACTED);
  if (depth > 20 || typeof value !== 'object' || value === null) return false;
  return Object.values(value).some((v) => containsMasked(v, depth + 1));
}

/**
 * Pretty JSON as escaped markup, with masked values marked and long strings clipped. Depth and size are
 * bounded, so hostile nesting cannot blow up the page.
 */
export function jsonView(value: unknown): SafeHtml {
  let budget = 5000; // nodes rendered
  const walk = (v: unknown, indent: string, depth: number): SafeHtml => {
    budget -= 1;
    if (budget < 0) return html`<span class="clipped">…</span>`;
    if (v === null || v === undefined) return html`<span class="j-null">null</span>`;
    if (typeof v === 'string') {
      const quoted = JSON.stringify(v.length > MAX_SHOWN_CHARS ? v.slice(0, MAX_SHOWN_CHARS) : v);
      const body = v.includes(REDACTED)
        ? html`<span class="j-str">${quoted}</span> ${maskedBadge()}`
        : html`<span class="j-str">${quoted}</span>`;
      return v.length > MAX_SHOWN_CHARS
        ? html`${body}<span class="clipped"> … (${(v.length - MAX_SHOWN_CHARS).toLocaleString('en')} more characters)</span>`
        : body;
    }
    if (typeof v === 'number' || typeof v === 'boolean') return html`<span class="j-lit">${String(v)}</span>`;
    if (typeof v !== 'object') return html`${String(v)}`;
    if (depth > 12) return html`<span class="clipped">…</span>`;
    const next = `${indent}  `;
    if (Array.isArray(v)) {
      if (v.length === 0) return html`[]`;
      return html`[\n${v.map((item, i) => html`${next}${walk(item, next, depth + 1)}${i < v.length - 1 ? ',' : ''}\n`)}${indent}]`;
    }
    const entries = Object.entries(v as Record<string, unknown>);
    if (entries.length === 0) return html`{}`;
    return html`{\n${entries.map(
      ([k, item], i) =>
        html`${next}<span class="j-key">${JSON.stringify(k)}</span>: ${walk(item, next, depth + 1)}${i < entries.length - 1 ? ',' : ''}\n`,
    )}${indent}}`;
  };
  return html`<pre class="json">${walk(value, '', 0)}</pre>`;
}

/** A short inline rendering of one value (a diff cell). */
export function inlineValue(value: unknown): SafeHtml {
  if (value === undefined) return html`<span class="j-null">—</span>`;
  if (value === null) return html`<span class="j-null">null</span>`;
  if (typeof value === 'string') {
    return value.includes(REDACTED)
      ? html`<span class="j-str">${clip(value, 2000)}</span> ${maskedBadge()}`
      : html`<span class="j-str">${clip(value, 2000)}</span>`;
  }
  if (typeof value === 'object') return jsonView(value);
  return html`<span class="j-lit">${String(value)}</span>`;
}

/** Reads `changes` as per-field [before, after] pairs (what change capture writes); null when it is not. */
export function fieldChanges(changes: AuditEvent['changes']): [string, unknown, unknown][] | null {
  if (!changes) return null;
  const rows: [string, unknown, unknown][] = [];
  for (const [field, pair] of Object.entries(changes)) {
    if (!Array.isArray(pair) || pair.length !== 2) return null;
    rows.push([field, pair[0], pair[1]]);
  }
  return rows;
}

/** The before → after table of a change event; a snapshot that is not in pairs is shown as JSON. */
export function diffTable(changes: AuditEvent['changes']): SafeHtml {
  if (!changes || Object.keys(changes).length === 0) return html`<p class="muted">No field changed.</p>`;
  const rows = fieldChanges(changes);
  if (!rows) return jsonView(changes);
  return html`<table class="diff">
    <caption class="sr-only">Changes, field by field</caption>
    <thead><tr><th scope="col">Field</th><th scope="col">Before</th><th scope="col">After</th></tr></thead>
    <tbody>${rows.map(
      ([field, before, after]) =>
        html`<tr><th scope="row">${field}</th><td class="before">${inlineValue(before)}</td><td class="after">${inlineValue(after)}</td></tr>`,
    )}</tbody>
  </table>`;
}

export function actorText(actor: AuditEvent['actor']): string {
  return actor.label ?? actor.id ?? actor.type;
}

export function targetText(target: AuditEvent['target']): string {
  if (!target) return '';
  return `${target.type}${target.id ? `:${target.id}` : ''}${target.label ? ` (${target.label})` : ''}`;
}

export function requestText(request: AuditEvent['request']): string {
  if (!request) return '';
  return [request.method, request.path, request.status].filter((x) => x !== undefined && x !== '').join(' ');
}
