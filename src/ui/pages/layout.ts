import { can, type UiUser } from '../auth/roles.js';
import { html, type SafeHtml } from '../html.js';

/** What every page knows about where it is served and to whom. */
export interface PageContext {
  /** Mount path, e.g. `/audit` ('' at the root). */
  base: string;
  title: string;
  user: UiUser | null;
  /** CSRF token for forms that change state (null for bearer-token clients). */
  csrf: string | null;
  /** Current section, highlighted in the navigation. */
  section?: 'events' | 'dashboard' | 'integrity' | 'admin' | 'records' | 'people';
}

const NAV: [NonNullable<PageContext['section']>, string, string][] = [
  ['events', 'Events', '/events'],
  ['dashboard', 'Dashboard', '/dashboard'],
  ['integrity', 'Integrity', '/integrity'],
];

/** A CSRF hidden field for a POST form. */
export function csrfField(ctx: PageContext): SafeHtml {
  return ctx.csrf ? html`<input type="hidden" name="_csrf" value="${ctx.csrf}">` : html``;
}

/** The page shell: header with navigation and the user, a main landmark, assets from the package. */
export function layout(
  ctx: PageContext,
  pageTitle: string,
  body: SafeHtml,
  scripts: string[] = [],
): SafeHtml {
  const { base, user } = ctx;
  const nav = user
    ? html`<nav aria-label="Main"><ul>${NAV.map(
        ([key, label, path]) =>
          html`<li><a href="${base}${path}"${key === ctx.section ? html` aria-current="page"` : ''}>${label}</a></li>`,
      )}${
        can(user, 'admin')
          ? html`<li><a href="${base}/admin"${ctx.section === 'admin' ? html` aria-current="page"` : ''}>Admin</a></li>`
          : ''
      }</ul></nav>
      <div class="who">
        <span title="${user.tenants ? `Organisations: ${user.tenants.join(', ')}` : 'All organisations'}">${user.name ?? user.id}
        <span class="badge role">${user.role}</span>${user.tenants ? html` <span class="badge">${user.tenants.length === 1 ? user.tenants[0] : `${user.tenants.length} orgs`}</span>` : ''}</span>
        ${
          user.via === 'password'
            ? html`<form method="post" action="${base}/logout" class="inline">${csrfField(ctx)}<button type="submit" class="link">Log out</button></form>`
            : ''
        }
      </div>`
    : '';
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
${ctx.csrf ? html`<meta name="csrf-token" content="${ctx.csrf}">` : ''}
<title>${pageTitle} · ${ctx.title}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${base}/assets/app.css">
${scripts.includes('uplot.js') ? html`<link rel="stylesheet" href="${base}/assets/uplot.css">` : ''}
<script src="${base}/assets/app.js" defer></script>
${scripts.map((s) => html`<script src="${base}/assets/${s}" defer></script>`)}
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
  <a class="brand" href="${base}/events">${ctx.title}</a>
  ${nav}
</header>
<main id="main" tabindex="-1">
${body}
</main>
</body>
</html>`;
}

/** A simple page with a heading and a message (errors, 403, 404). */
export function messagePage(ctx: PageContext, heading: string, message: string): SafeHtml {
  return layout(
    ctx,
    heading,
    html`<h1>${heading}</h1><p class="notice" role="alert">${message}</p><p><a href="${ctx.base}/events">Back to the events</a></p>`,
  );
}
