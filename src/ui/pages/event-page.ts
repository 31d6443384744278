import type { AuditEvent } from '../../core/event.js';
import { html, type SafeHtml } from '../html.js';
import { eventTable } from './events-page.js';
import { layout, type PageContext } from './layout.js';
import {
  clip,
  containsMasked,
  diffTable,
  inlineValue,
  jsonView,
  maskedBadge,
  outcomeBadge,
  time,
} from './render.js';

/** Longest text shown in a field of the event card (the JSON sections show more, in a scroll box). */
const MAX_FIELD_CHARS = 4000;

export interface EventPageData {
  event: AuditEvent;
  /** Other events of the same request (already restricted to what the user may see). */
  related: AuditEvent[];
}

function row(label: string, value: SafeHtml | string | number | undefined | null): SafeHtml {
  if (value === undefined || value === null || value === '') return html``;
  return html`<div><dt>${label}</dt><dd>${typeof value === 'string' ? clip(value, MAX_FIELD_CHARS) : value}</dd></div>`;
}

export function recordLink(ctx: PageContext, type: string, id: string): string {
  return `${ctx.base}/records?${new URLSearchParams({ type, id })}`;
}

export function personLink(ctx: PageContext, actorId: string): string {
  return `${ctx.base}/people?${new URLSearchParams({ actor: actorId })}`;
}

/** Everything about one event: fields, a per-field diff, masked request and response, related events. */
export function eventPage(ctx: PageContext, data: EventPageData): SafeHtml {
  const e = data.event;
  const requestId = e.correlation?.requestId ?? e.request?.id;
  const req = e.request;
  const links: SafeHtml[] = [];
  if (e.actor.id)
    links.push(
      html`<a href="${personLink(ctx, e.actor.id)}">Timeline of ${clip(e.actor.label ?? e.actor.id, 80)}</a>`,
    );
  if (e.target?.id) {
    links.push(
      html`<a href="${recordLink(ctx, e.target.type, e.target.id)}">History of ${clip(`${e.target.type}:${e.target.id}`, 80)}</a>`,
    );
  }
  if (requestId)
    links.push(
      html`<a href="${ctx.base}/events?${new URLSearchParams({ requestId })}">All events of this request</a>`,
    );

  const section = (title: string, value: unknown) =>
    value === undefined
      ? html``
      : html`<section class="card"><h2>${title}${containsMasked(value) ? html` ${maskedBadge()}` : ''}</h2>${jsonView(value)}</section>`;

  return layout(
    { ...ctx, section: 'events' },
    `Event ${e.action}`,
    html`<nav class="crumbs" aria-label="Breadcrumb"><a href="${ctx.base}/events">Events</a> › <span>${clip(e.action, 100)}</span></nav>
<div class="page-head"><h1><span class="badge cat-${e.category}">${e.category}</span> ${clip(e.action, 200)} ${outcomeBadge(e.outcome)}</h1></div>
${links.length > 0 ? html`<p class="links">${links.map((l, i) => html`${i > 0 ? ' · ' : ''}${l}`)}</p>` : ''}
<section class="card"><h2>Event</h2><dl class="fields">
  ${row('Id', e.id)}
  ${row('Occurred at', time(e.occurredAt))}
  ${row('Organisation', e.tenantId ?? undefined)}
  ${row('Actor', html`${clip(e.actor.label ?? '', 200)} <code>${e.actor.type}${e.actor.id ? `:${e.actor.id}` : ''}</code>`)}
  ${row('Client address', e.actor.ip)}
  ${row('User agent', e.actor.userAgent)}
  ${row('Session', e.actor.sessionId)}
  ${row('Target', e.target ? html`<code>${e.target.type}${e.target.id ? `:${e.target.id}` : ''}</code> ${clip(e.target.label ?? '', 200)}` : undefined)}
  ${row('Reason', e.reason)}
  ${row('Message', e.message)}
  ${row('Request id', requestId)}
  ${row('Trace id', e.correlation?.traceId)}
  ${row('Process', e.correlation?.processId ? `${e.correlation.processId}${e.correlation.stepId ? ` / ${e.correlation.stepId}` : ''}` : undefined)}
  ${row('Sequence', e.seq)}
  ${row('Hash', e.hash ? html`<code class="hash">${e.hash}</code>` : undefined)}
</dl></section>
${e.changes ? html`<section class="card"><h2>Changes${containsMasked(e.changes) ? html` ${maskedBadge()}` : ''}</h2>${diffTable(e.changes)}</section>` : ''}
${
  req
    ? html`<section class="card"><h2>Request</h2><dl class="fields">
  ${row('Method', req.method)}${row('Path', req.path)}${row('Route', req.route)}${row('Status', req.status)}
  ${row('Duration', req.durationMs === undefined ? undefined : `${req.durationMs} ms`)}
  ${req.query === undefined ? '' : row('Query', inlineValue(req.query))}
</dl></section>
${section('Request headers', req.headers)}
${section('Request body', req.body)}
${section('Response headers', req.responseHeaders)}
${section('Response body', req.responseBody)}`
    : ''
}
${section('Metadata', e.metadata)}
${
  data.related.length > 0
    ? html`<section><h2>Other events of the same request</h2>${eventTable(ctx, data.related, 'Events of the same request')}</section>`
    : ''
}`,
  );
}
