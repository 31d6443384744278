import type { AuditEvent } from '../../core/event.js';
import { html, type SafeHtml } from '../html.js';
import { eventTable } from './events-page.js';
import { layout, type PageContext } from './layout.js';
import { clip } from './render.js';

export interface PersonPageData {
  actorId: string;
  label: string | null;
  activity: AuditEvent[];
  security: AuditEvent[];
  failedLogins: AuditEvent[];
}

/** Everything an actor did, their security events and their failed logins. */
export function personPage(ctx: PageContext, data: PersonPageData): SafeHtml {
  const list = (params: Record<string, string | string[]>) => {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) for (const x of [v].flat()) p.append(k, x);
    return `${ctx.base}/events?${p}`;
  };
  return layout(
    { ...ctx, section: 'people' },
    `Person ${data.actorId}`,
    html`<nav class="crumbs" aria-label="Breadcrumb"><a href="${ctx.base}/events">Events</a> › <span>Person</span></nav>
<h1>${clip(data.label ?? data.actorId, 200)} <code>${clip(data.actorId, 200)}</code></h1>
<section><div class="page-head"><h2>Failed logins</h2><a href="${list({ actor: data.actorId, category: 'auth', outcome: ['failure', 'denied'] })}">All</a></div>
${eventTable(ctx, data.failedLogins, 'Failed logins')}</section>
<section><div class="page-head"><h2>Security events</h2><a href="${list({ actor: data.actorId, category: 'auth' })}">All</a></div>
${eventTable(ctx, data.security, 'Security events')}</section>
<section><div class="page-head"><h2>Activity</h2><a href="${list({ actor: data.actorId })}">All</a></div>
${eventTable(ctx, data.activity, 'Everything this actor did')}</section>`,
  );
}
