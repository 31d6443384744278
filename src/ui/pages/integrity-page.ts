import type { RecordedVerification } from '../../integrity/auditor-integrity.js';
import type { VerifyReport } from '../../integrity/verify.js';
import { html, type SafeHtml } from '../html.js';
import type { VerifyJob } from '../verify-jobs.js';
import { csrfField, layout, type PageContext } from './layout.js';
import { actorText, clip, time } from './render.js';

export interface ChainHead {
  tenantId: string | null;
  lastSeq: number;
  checkpointSeq: number;
  checkpointAt: string | null;
}

export interface CheckpointSummary {
  id: string;
  tenantId: string | null;
  firstSeq: number;
  lastSeq: number;
  createdAt: string;
  signed: boolean;
}

export interface IntegrityPageData {
  /** False when the store has no SQL access or the integrity tables were never created. */
  available: boolean;
  heads: ChainHead[];
  checkpoints: CheckpointSummary[];
  /** The latest verification run from this UI process (running or finished), if any. */
  job: VerifyJob | null;
  /** Verifications recorded in the log (`integrity.verified`), newest first, of the user's organisations. */
  recorded: RecordedVerification[];
  canVerify: boolean;
}

function reportView(report: VerifyReport): SafeHtml {
  return html`<p class="result ${report.ok ? 'ok' : 'bad'}" role="status"><strong>${report.ok ? 'Intact' : 'Tampering found'}</strong>:
  ${report.checkedEvents.toLocaleString('en')} events in ${report.chains.length} chain${report.chains.length === 1 ? '' : 's'} checked,
  ${report.checkpointsVerified} checkpoint${report.checkpointsVerified === 1 ? '' : 's'} verified${report.signaturesChecked ? ' (signatures checked)' : ''}.
  ${report.unsealed > 0 ? `${report.unsealed} events are not sealed yet.` : ''}</p>
${report.firstProblem ? html`<p class="notice error" role="alert">First problem: ${clip(report.firstProblem.message, 500)}</p>` : ''}
${report.problems.length > 0 ? html`<ul>${report.problems.map((p) => html`<li><strong>${p.kind}</strong> ${p.tenantId ?? '(no organisation)'}${p.seq === null ? '' : ` seq ${p.seq}`}: ${clip(p.message, 300)}</li>`)}</ul>` : ''}
${report.warnings.length > 0 ? html`<ul class="muted">${report.warnings.map((w) => html`<li>${w}</li>`)}</ul>` : ''}`;
}

const plural = (n: number, word: string) => `${n.toLocaleString('en')} ${word}${n === 1 ? '' : 's'}`;

function scopeText(entry: RecordedVerification): string {
  const { scope } = entry.summary;
  const which =
    scope.tenantId === undefined
      ? 'every organisation'
      : scope.tenantId === null
        ? 'events without an organisation'
        : `organisation ${scope.tenantId}`;
  const range =
    scope.from || scope.to ? `, checkpoints from ${scope.from ?? 'the start'} to ${scope.to ?? 'now'}` : '';
  return `${which}${range}`;
}

/** A recorded result, as the log keeps it (`integrity.verified`): it survives restarts of the UI. */
function recordedView(entry: RecordedVerification): SafeHtml {
  const s = entry.summary;
  return html`<p class="muted">Finished ${time(entry.at)} by ${clip(actorText(entry.actor), 200)}; ${clip(scopeText(entry), 300)}.</p>
<p class="result ${s.ok ? 'ok' : 'bad'}" role="status"><strong>${s.ok ? 'Intact' : 'Tampering found'}</strong>:
  ${plural(s.checkedEvents, 'event')} in ${plural(s.chainCount, 'chain')} checked,
  ${plural(s.checkpointsVerified, 'checkpoint')} verified${s.signaturesChecked ? ' (signatures checked)' : ''}${s.problems > 0 ? html`, ${plural(s.problems, 'problem')}` : ''}.
  ${s.unsealed > 0 ? `${s.unsealed} events were not sealed yet.` : ''}</p>
${s.firstProblem ? html`<p class="notice error" role="alert">First problem: ${clip(s.firstProblem.message, 500)}</p>` : ''}
${
  s.ranges.length > 0
    ? html`<details><summary>Ranges verified</summary><ul>${s.ranges.map((r) => html`<li>${r.tenantId ?? '(no organisation)'}: seq ${r.fromSeq}–${r.lastSeq}, ${plural(r.events, 'event')}${r.ok ? '' : html` <strong>failed</strong>`}</li>`)}</ul>${s.chainCount > s.ranges.length ? html`<p class="muted">and ${plural(s.chainCount - s.ranges.length, 'more chain')}.</p>` : ''}</details>`
    : ''
}`;
}

function historyTable(ctx: PageContext, recorded: RecordedVerification[]): SafeHtml {
  return html`<table><caption class="sr-only">Recent verifications, newest first</caption><thead><tr><th scope="col">Finished (UTC)</th><th scope="col">By</th><th scope="col">Covering</th><th scope="col">Result</th><th scope="col">Events</th><th scope="col">Checkpoints</th><th scope="col">Problems</th></tr></thead><tbody>
${recorded.map(
  (r) =>
    html`<tr><td><a href="${ctx.base}/events/${r.eventId}">${time(r.at)}</a></td><td>${clip(actorText(r.actor), 80)}</td><td>${clip(scopeText(r), 120)}</td><td>${r.summary.ok ? 'intact' : html`<strong>tampering found</strong>`}</td><td>${r.summary.checkedEvents.toLocaleString('en')}</td><td>${r.summary.checkpointsVerified}</td><td>${r.summary.problems}</td></tr>`,
)}
</tbody></table>`;
}

/** Last verification, chain heads and checkpoints, and a "verify now" button with progress. */
export function integrityPage(ctx: PageContext, data: IntegrityPageData): SafeHtml {
  const job = data.job;
  const latest = data.recorded[0] ?? null;
  // A run of this process that finished but is not in the log yet (its event could not be stored):
  // shown from memory rather than an older recorded result.
  const unrecorded =
    job?.state === 'done' && job.report && !(latest && latest.at.getTime() >= Date.parse(job.startedAt));
  const jobView =
    job?.state === 'running'
      ? html`<p role="status">Verifying… <progress id="verify-progress" max="${Math.max(job.total, 1)}" value="${job.checked}">${job.checked}</progress> <span id="verify-count">${job.checked} / ${job.total}</span></p>`
      : job?.state === 'failed'
        ? html`<p class="notice error" role="alert">The verification started ${job.startedAt} could not run: ${clip(job.error ?? '', 500)}</p>`
        : '';
  const lastView =
    unrecorded && job?.report
      ? html`<p class="muted">Finished ${job.finishedAt ?? ''}, started by ${job.startedBy} (not in the audit log yet).</p>${reportView(job.report)}`
      : latest
        ? recordedView(latest)
        : job?.state === 'running'
          ? ''
          : html`<p class="muted">No verification has been recorded yet.</p>`;
  return layout(
    { ...ctx, section: 'integrity' },
    'Integrity',
    html`<h1>Integrity</h1>
<section class="card" id="verify" ${job?.state === 'running' ? html`data-job="${ctx.base}/integrity/jobs/${job.id}"` : ''}>
<div class="page-head"><h2>Verification</h2>
${
  data.canVerify && data.available
    ? html`<form method="post" action="${ctx.base}/integrity/verify">${csrfField(ctx)}<button type="submit"${job?.state === 'running' ? html` disabled` : ''}>Verify now</button></form>`
    : ''
}</div>
${jobView}
${lastView}
</section>
${data.recorded.length > 1 ? html`<section class="card"><h2>Recent verifications</h2>${historyTable(ctx, data.recorded)}</section>` : ''}
${
  data.available
    ? html`<section class="card"><h2>Chains</h2>${
        data.heads.length === 0
          ? html`<p class="muted">Nothing sealed yet.</p>`
          : html`<table><thead><tr><th scope="col">Organisation</th><th scope="col">Last sealed seq</th><th scope="col">Checkpointed up to</th><th scope="col">Last checkpoint</th></tr></thead><tbody>
${data.heads.map((h) => html`<tr><td>${h.tenantId ?? '(none)'}</td><td>${h.lastSeq}</td><td>${h.checkpointSeq}</td><td>${h.checkpointAt ?? '—'}</td></tr>`)}
</tbody></table>`
      }</section>
<section class="card"><h2>Latest checkpoints</h2>${
        data.checkpoints.length === 0
          ? html`<p class="muted">No checkpoint yet.</p>`
          : html`<table><thead><tr><th scope="col">Id</th><th scope="col">Organisation</th><th scope="col">Seqs</th><th scope="col">Created</th><th scope="col">Signed</th></tr></thead><tbody>
${data.checkpoints.map((c) => html`<tr><td><code>${c.id.slice(0, 16)}</code></td><td>${c.tenantId ?? '(none)'}</td><td>${c.firstSeq}–${c.lastSeq}</td><td>${c.createdAt}</td><td>${c.signed ? 'yes' : 'no'}</td></tr>`)}
</tbody></table>`
      }</section>`
    : html`<p class="notice">Tamper evidence is not set up for this store (it needs a SQL store and <code>auditkit seal</code> or the <code>integrity</code> option).</p>`
}`,
    ['integrity.js'],
  );
}
