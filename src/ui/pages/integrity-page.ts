import type { VerifyReport } from '../../integrity/verify.js';
import { html, type SafeHtml } from '../html.js';
import type { VerifyJob } from '../verify-jobs.js';
import { csrfField, layout, type PageContext } from './layout.js';
import { clip } from './render.js';

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
  /** The latest verification run from this UI (running or finished), if any. */
  job: VerifyJob | null;
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

/** Last verification, chain heads and checkpoints, and a "verify now" button with progress. */
export function integrityPage(ctx: PageContext, data: IntegrityPageData): SafeHtml {
  const job = data.job;
  const jobView = !job
    ? html`<p class="muted">No verification was run from this console yet.</p>`
    : job.state === 'running'
      ? html`<p role="status">Verifying… <progress id="verify-progress" max="${Math.max(job.total, 1)}" value="${job.checked}">${job.checked}</progress> <span id="verify-count">${job.checked} / ${job.total}</span></p>`
      : job.state === 'failed'
        ? html`<p class="notice error" role="alert">The verification could not run: ${clip(job.error ?? '', 500)}</p>`
        : job.report
          ? html`<p class="muted">Finished ${job.finishedAt ?? ''}, started by ${job.startedBy}.</p>${reportView(job.report)}`
          : '';
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
</section>
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
