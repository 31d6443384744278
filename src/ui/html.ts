/**
 * HTML built by construction: every value interpolated into {@link html} is escaped unless it is
 * itself {@link SafeHtml} (the output of another `html` template). Event data is hostile input, so the
 * pages never concatenate strings into markup.
 */

/** A fragment of markup that is known to be safe (built by `html`). */
export class SafeHtml {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  toString(): string {
    return this.#value;
  }
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

/**
 * Escapes text for use in HTML content and in quoted attribute values.
 *
 * @example
 * escapeHtml('<script>') // '&lt;script&gt;'
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => ESCAPES[c] as string);
}

// Bidirectional overrides and isolates in data could make text read backwards (a spoofed file name or
// amount); they are shown as visible code points instead.
const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069]/g;

function render(value: unknown): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof SafeHtml) return value.toString();
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(
    String(value).replace(BIDI_CONTROLS, (c) => `[U+${c.charCodeAt(0).toString(16).toUpperCase()}]`),
  );
}

/**
 * The tagged template of every page: interpolations are escaped, arrays are joined, `null`,
 * `undefined` and `false` render nothing, nested `html` fragments are kept as markup.
 *
 * @example
 * html`<td>${event.action}</td>` // a `<script>` in the action renders as text
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0] as string;
  for (let i = 0; i < values.length; i++) out += render(values[i]) + (strings[i + 1] as string);
  return new SafeHtml(out);
}

/** Text that is already safe markup, for constants of this module only (never for data). */
export function trustedHtml(markup: string): SafeHtml {
  return new SafeHtml(markup);
}

/**
 * JSON for a `<script type="application/json">` data block: `<`, `>`, `&` and the line separators
 * are escaped so no value can close the block or start markup.
 */
export function jsonForScript(value: unknown): SafeHtml {
  const json = JSON.stringify(value) ?? 'null';
  return new SafeHtml(
    json.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`),
  );
}
