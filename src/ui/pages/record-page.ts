import type { AuditEvent } from '../../core/event.js';
import { html, type SafeHtml } from '../html.js';
import type { RecordState } from '../record-state.js';
import { personLink } from './event-page.js';
import { layout, type PageContext } from './layout.js';
import { actorText, clip, diffTable, inlineValue, outcomeBadge, time } from './render.js';

export interface RecordPageData {
  type: string;
  id: string;
  /** Newest first. */
  events: AuditEvent[];
  /** True when the history has more events than were read. */
  truncated: boolean;
  /** The instant asked for (`at`), and the record's state then. */
  at: string;
  state: RecordState | null;
  error?: string;
}

/** A record's history with a diff per change, and its state at a chosen time. */
export function recordPage(ctx: PageContext, data: RecordPageData): SafeHtml {
  const title = `${data.type}:${data.id}`;
  const state = data.state;
  return layout(
    { ...ctx, section: 'records' },
    `History of ${title}`,
    html`<nav class="crumbs" aria-label="Breadcrumb"><a href="${ctx.base}/events">Events</a> › <span>Record</span></nav>
<h1>History of <code>${clip(title, 200)}</code></h1>
<p class="links"><a href="${ctx.base}/events?${new URLSearchParams({ targetType: data.type, targetId: data.id })}">All events of this record in the list</a></p>
<section class="card"><h2>State at a chosen time</h2>
<form method="get" action="${ctx.base}/records" class="inline-form">
  <input type="hidden" name="type" value="${data.type}"><input type="hidden" name="id" value="${data.id}">
  <label for="at">At (UTC)</label> <input id="at" name="at" type="datetime-local" step="1" value="${data.at}">
  <button type="submit">Show state</button>
</form>
${data.error ? html`<p class="notice error" role="alert">${data.error}</p>` : ''}
${
  state
    ? state.fields === null
      ? html`<p class="muted">No change of this record was recorded before that time.</p>`
      : html`${state.deleted ? html`<p class="notice">The record was <strong>deleted</strong> at that time; its last values:</p>` : ''}
<table class="state"><caption class="sr-only">Field values</caption><thead><tr><th scope="col">Field</th><th scope="col">Value</th></tr></thead><tbody>
${Object.entries(state.fields).map(([k, v]) => html`<tr><th scope="row">${k}</th><td>${inlineValue(v)}</td></tr>`)}
</tbody></table><p class="muted">From ${state.applied} change event${state.applied === 1 ? '' : 's'}.</p>`
    : ''
}
</section>
<section><h2>Timeline</h2>
${data.events.length === 0 ? html`<p class="empty">No events for this record.</p>` : ''}
<ol class="timeline">
${data.events.map(
  (e) => html`<li class="card">
  <div class="when">${time(e.occurredAt)} · <a href="${ctx.base}/events/${e.id}">${clip(e.action, 120)}</a> ${outcomeBadge(e.outcome)}
  by ${e.actor.id ? html`<a href="${personLink(ctx, e.actor.id)}">${clip(actorText(e.actor), 120)}</a>` : clip(actorText(e.actor), 120)}</div>
  ${e.changes ? diffTable(e.changes) : e.message ? html`<p>${clip(e.message, 500)}</p>` : ''}
</li>`,
)}
</ol>
${data.truncated ? html`<p class="notice">Only the newest ${data.events.length} events are shown.</p>` : ''}
</section>`,
  );
}
