import { html, type SafeHtml } from '../html.js';
import { csrfField, layout, type PageContext } from './layout.js';

export interface AdminPageData {
  /** The outcome of the last action, shown at the top. */
  result?: { ok: boolean; message: string };
  /** Retention days configured on the auditor, shown as the default. */
  restricted: boolean;
}

/** Retention (dry run first) and GDPR erasure, for admins who may see every organisation. */
export function adminPage(ctx: PageContext, data: AdminPageData): SafeHtml {
  return layout(
    { ...ctx, section: 'admin' },
    'Admin',
    html`<h1>Administration</h1>
${data.result ? html`<p class="notice ${data.result.ok ? '' : 'error'}" role="status">${data.result.message}</p>` : ''}
${
  data.restricted
    ? html`<p class="notice">Retention and erasure act on every organisation, so they need an admin who is not restricted to some.</p>`
    : html`<section class="card"><h2>Retention</h2>
<p>Removes events older than the retention. Run a dry run first: it counts and changes nothing.</p>
<form method="post" action="${ctx.base}/admin/cleanup" class="stack">${csrfField(ctx)}
  <label for="days">Keep this many days (empty: the configured policy)</label><input id="days" name="days" inputmode="numeric" pattern="[0-9]*">
  <label><input type="checkbox" name="dryRun" value="1" checked> Dry run</label>
  <button type="submit">Run retention</button>
</form></section>
<section class="card"><h2>Erase a person (GDPR)</h2>
<p>Replaces a person's name, email, address and fields with a pseudonym in every event; the chains still verify.</p>
<form method="post" action="${ctx.base}/admin/erase" class="stack">${csrfField(ctx)}
  <label for="subject">Actor id of the person</label><input id="subject" name="subject" required>
  <label><input type="checkbox" name="dryRun" value="1" checked> Dry run</label>
  <button type="submit" class="danger">Erase</button>
</form></section>`
}`,
  );
}
