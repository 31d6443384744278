import { type AuditEvent, CATEGORIES, OUTCOMES } from '../../core/event.js';
import { type FilterState, filterParams, hasFilters, QUICK_RANGES } from '../filters.js';
import { html, type SafeHtml } from '../html.js';
import { layout, type PageContext } from './layout.js';
import { actorText, clip, MAX_CELL_CHARS, outcomeBadge, requestText, targetText, time } from './render.js';

export interface EventsPageData {
  filters: FilterState;
  events: AuditEvent[];
  nextCursor: string | null;
  /** True when this is not the first page. */
  paged: boolean;
  errors: string[];
  canExport: boolean;
}

function input(id: keyof FilterState, label: string, value: string, attrs: SafeHtml = html``) {
  return html`<div class="field"><label for="f-${id}">${label}</label><input id="f-${id}" name="${id}" value="${value}" ${attrs}></div>`;
}

/** The filter form; every filter is a URL parameter, so the resulting view can be shared. */
export function filterForm(ctx: PageContext, filters: FilterState, action = '/events'): SafeHtml {
  return html`<details class="filter-panel" open${hasFilters(filters) ? html` data-active` : ''}><summary>Filters</summary>
<form class="filters card" method="get" action="${ctx.base}${action}" role="search" aria-label="Filter events">
  <div class="field"><label for="f-range">Time</label><select id="f-range" name="range">
    <option value="">Any time</option>
    ${Object.entries(QUICK_RANGES).map(
      ([key, r]) =>
        html`<option value="${key}"${filters.range === key ? html` selected` : ''}>${r.label}</option>`,
    )}
  </select></div>
  ${input('from', 'From (UTC)', filters.from, html`type="datetime-local" step="1"`)}
  ${input('to', 'To (UTC)', filters.to, html`type="datetime-local" step="1"`)}
  <fieldset class="field"><legend>Category</legend><div class="checks">${CATEGORIES.map(
    (c) =>
      html`<label><input type="checkbox" name="category" value="${c}"${filters.category.includes(c) ? html` checked` : ''}> ${c}</label>`,
  )}</div></fieldset>
  <fieldset class="field"><legend>Outcome</legend><div class="checks">${OUTCOMES.map(
    (o) =>
      html`<label><input type="checkbox" name="outcome" value="${o}"${filters.outcome.includes(o) ? html` checked` : ''}> ${o}</label>`,
  )}</div></fieldset>
  ${input('action', 'Action', filters.action, html`placeholder="user.login or user.*"`)}
  ${input('tenant', 'Organisation', filters.tenant)}
  ${input('actor', 'Actor id', filters.actor)}
  ${input('targetType', 'Target type', filters.targetType)}
  ${input('targetId', 'Target id', filters.targetId)}
  ${input('path', 'Path prefix', filters.path, html`placeholder="/api/"`)}
  ${input('status', 'Status', filters.status, html`placeholder="404 or 5xx" inputmode="numeric"`)}
  ${input('requestId', 'Request id', filters.requestId)}
  ${input('q', 'Text', filters.q, html`type="search" placeholder="message, ids, labels"`)}
  <div class="actions"><button type="submit">Search</button>${hasFilters(filters) ? html` <a href="${ctx.base}${action}">Clear</a>` : ''}</div>
</form></details>`;
}

/** One line of the event table. */
export function eventRow(ctx: PageContext, e: AuditEvent): SafeHtml {
  return html`<tr>
  <td><a href="${ctx.base}/events/${e.id}" class="row-link">${time(e.occurredAt)}</a></td>
  <td><span class="badge cat-${e.category}">${e.category}</span></td>
  <td class="action">${clip(e.action, MAX_CELL_CHARS)}</td>
  <td>${outcomeBadge(e.outcome)}</td>
  <td>${clip(actorText(e.actor), MAX_CELL_CHARS)}</td>
  <td>${clip(targetText(e.target), MAX_CELL_CHARS)}</td>
  <td>${clip(requestText(e.request), MAX_CELL_CHARS)}</td>
  <td>${clip(e.tenantId ?? '', MAX_CELL_CHARS)}</td>
  <td class="message">${clip(e.message ?? e.reason ?? '', MAX_CELL_CHARS)}</td>
</tr>`;
}

/** The event table (shared by the list, the person view and the record timeline). */
export function eventTable(ctx: PageContext, events: AuditEvent[], caption: string): SafeHtml {
  if (events.length === 0) return html`<p class="empty">No events match.</p>`;
  return html`<div class="table-wrap"><table class="events" data-keyboard-rows>
  <caption class="sr-only">${caption}</caption>
  <thead><tr><th scope="col">Time (UTC)</th><th scope="col">Category</th><th scope="col">Action</th><th scope="col">Outcome</th><th scope="col">Actor</th><th scope="col">Target</th><th scope="col">Request</th><th scope="col">Organisation</th><th scope="col">Message</th></tr></thead>
  <tbody>${events.map((e) => eventRow(ctx, e))}</tbody>
</table></div>`;
}

/** The event list: filters, newest first, one keyset page at a time, export of the current filter. */
export function eventsPage(ctx: PageContext, data: EventsPageData): SafeHtml {
  const { filters } = data;
  const older = data.nextCursor
    ? `${ctx.base}/events?${filterParams(filters, { cursor: data.nextCursor })}`
    : null;
  const newest = `${ctx.base}/events?${filterParams(filters)}`;
  const exportLinks = data.canExport
    ? html`<div class="export" role="group" aria-label="Export the current filter">Export:
        ${(['csv', 'jsonl', 'pdf'] as const).map(
          (f) =>
            html` <a class="button secondary" href="${ctx.base}/export?${filterParams(filters, { format: f })}" download>${f.toUpperCase()}</a>`,
        )}</div>`
    : '';
  return layout(
    { ...ctx, section: 'events' },
    'Events',
    html`<div class="page-head"><h1>Events</h1>${exportLinks}</div>
${filterForm(ctx, filters)}
${data.errors.length > 0 ? html`<div class="notice error" role="alert"><ul>${data.errors.map((e) => html`<li>${e}</li>`)}</ul></div>` : ''}
<section aria-label="Results">
<p class="muted" aria-live="polite">${data.events.length} event${data.events.length === 1 ? '' : 's'} on this page${data.paged ? ' (older page)' : ''}, newest first.</p>
${eventTable(ctx, data.events, 'Events, newest first')}
<nav class="pager" aria-label="Pages">
  ${data.paged ? html`<a href="${newest}" rel="first">⇤ Newest</a>` : ''}
  ${older ? html`<a href="${older}" rel="next" class="button secondary">Older events →</a>` : ''}
</nav>
</section>`,
  );
}
