import type { AuditSummary } from '../../store/store.js';
import { QUICK_RANGES } from '../filters.js';
import { html, jsonForScript, type SafeHtml } from '../html.js';
import { layout, type PageContext } from './layout.js';
import { clip } from './render.js';

export interface DashboardData {
  range: string;
  bucket: 'minute' | 'hour' | 'day';
  from: Date;
  to: Date;
  summary: AuditSummary;
  failedLogins: AuditSummary;
  /** True when the store has no `summarize` and the figures come from a bounded scan. */
  approximate: boolean;
}

function percent(part: number, whole: number): string {
  return whole === 0 ? '0%' : `${((part / whole) * 100).toFixed(1)}%`;
}

/** Events over time by category, failure rate, top actors, failed logins by reason. */
export function dashboardPage(ctx: PageContext, data: DashboardData): SafeHtml {
  const s = data.summary;
  const failed = (s.byOutcome.failure ?? 0) + (s.byOutcome.error ?? 0) + (s.byOutcome.denied ?? 0);
  const events = (params: Record<string, string>) =>
    `${ctx.base}/events?${new URLSearchParams({ range: data.range, ...params })}`;
  return layout(
    { ...ctx, section: 'dashboard' },
    'Dashboard',
    html`<div class="page-head"><h1>Dashboard</h1>
<form method="get" action="${ctx.base}/dashboard" class="inline-form"><label for="d-range">Period</label>
<select id="d-range" name="range" data-autosubmit>${Object.entries(QUICK_RANGES).map(
      ([key, r]) =>
        html`<option value="${key}"${data.range === key ? html` selected` : ''}>${r.label}</option>`,
    )}</select> <button type="submit" class="secondary">Show</button></form></div>
${data.approximate ? html`<p class="notice">This store cannot aggregate; the figures come from the newest events only.</p>` : ''}
<div class="tiles">
  <a class="tile card" href="${events({})}"><span class="label">Events</span><span class="value">${s.total.toLocaleString('en')}</span></a>
  <a class="tile card" href="${events({ outcome: 'failure' })}"><span class="label">Failure rate</span><span class="value">${percent(failed, s.total)}</span><span class="muted">${failed.toLocaleString('en')} failed, denied or errors</span></a>
  <a class="tile card" href="${events({ category: 'auth', outcome: 'failure' })}"><span class="label">Failed logins</span><span class="value">${data.failedLogins.total.toLocaleString('en')}</span></a>
</div>
<section class="card"><h2 id="timeline-title">Events over time by category</h2>
<div id="timeline-chart" class="chart" role="img" aria-labelledby="timeline-title"></div>
<details><summary>As a table</summary><table><thead><tr><th scope="col">Bucket (UTC)</th><th scope="col">Category</th><th scope="col">Events</th></tr></thead><tbody>
${s.timeline.map((t) => html`<tr><td>${t.at}</td><td>${t.category}</td><td>${t.count}</td></tr>`)}
</tbody></table></details></section>
<div class="columns">
<section class="card"><h2>By category</h2><table><thead><tr><th scope="col">Category</th><th scope="col">Events</th></tr></thead><tbody>
${Object.entries(s.byCategory).map(([c, n]) => html`<tr><th scope="row"><a href="${events({ category: c })}">${c}</a></th><td>${n}</td></tr>`)}
</tbody></table>
<h2 class="spaced">By outcome</h2><table><thead><tr><th scope="col">Outcome</th><th scope="col">Events</th></tr></thead><tbody>
${Object.entries(s.byOutcome).map(([o, n]) => html`<tr><th scope="row"><a href="${events({ outcome: o })}">${o}</a></th><td>${n}</td></tr>`)}
</tbody></table></section>
<section class="card"><h2>Top actors</h2><table><thead><tr><th scope="col">Actor</th><th scope="col">Events</th></tr></thead><tbody>
${s.topActors.map(
  (a) =>
    html`<tr><td>${a.id ? html`<a href="${ctx.base}/people?${new URLSearchParams({ actor: a.id })}">${clip(a.label ?? a.id, 80)}</a>` : a.type}</td><td>${a.count}</td></tr>`,
)}
</tbody></table></section>
<section class="card"><h2 id="reasons-title">Failed logins by reason</h2>
<div id="reasons-chart" class="chart small" role="img" aria-labelledby="reasons-title"></div>
<table><tbody>${data.failedLogins.topReasons.map((r) => html`<tr><th scope="row">${clip(r.reason, 80)}</th><td>${r.count}</td></tr>`)}</tbody></table>
${data.failedLogins.topReasons.length === 0 ? html`<p class="muted">No failed login in this period.</p>` : ''}
</section>
</div>
<script type="application/json" id="dashboard-data">${jsonForScript({
      bucket: data.bucket,
      from: data.from.toISOString(),
      to: data.to.toISOString(),
      timeline: s.timeline,
      reasons: data.failedLogins.topReasons,
    })}</script>`,
    ['uplot.js', 'dashboard.js'],
  );
}
