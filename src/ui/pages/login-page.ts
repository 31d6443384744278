import { html } from '../html.js';
import { layout, type PageContext } from './layout.js';

/** The login form; `error` is shown above it. */
export function loginPage(ctx: PageContext, loginCsrf: string, next: string, error?: string, username = '') {
  return layout(
    ctx,
    'Log in',
    html`<section class="login card">
  <h1>Log in</h1>
  ${error ? html`<p class="notice error" role="alert">${error}</p>` : ''}
  <form method="post" action="${ctx.base}/login">
    <input type="hidden" name="_csrf" value="${loginCsrf}">
    <input type="hidden" name="next" value="${next}">
    <label for="username">User name</label>
    <input id="username" name="username" autocomplete="username" required value="${username}" autofocus>
    <label for="password">Password</label>
    <input id="password" name="password" type="password" autocomplete="current-password" required>
    <button type="submit">Log in</button>
  </form>
</section>`,
  );
}
