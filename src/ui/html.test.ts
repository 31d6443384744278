import { describe, expect, it } from 'vitest';
import { escapeHtml, html, jsonForScript, trustedHtml } from './html.js';

describe('html (escaping by construction)', () => {
  it('escapes every interpolated value, in text and in quoted attributes', () => {
    const hostile = `<script>alert("x")</script>'\``;
    expect(html`<p title="${hostile}">${hostile}</p>`.toString()).toBe(
      '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39;&#96;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39;&#96;</p>',
    );
    expect(escapeHtml('a & b')).toBe('a &amp; b');
  });

  it('keeps nested fragments as markup, joins arrays, renders null, undefined and false as nothing', () => {
    const items = ['<a>', 'b'].map((x) => html`<li>${x}</li>`);
    expect(html`<ul>${items}</ul>${null}${undefined}${false}${0}`.toString()).toBe(
      '<ul><li>&lt;a&gt;</li><li>b</li></ul>0',
    );
    expect(html`${trustedHtml('<br>')}`.toString()).toBe('<br>');
  });

  it('shows bidirectional override characters as code points instead of letting them reorder text', () => {
    expect(html`${'invoice\u202Efdp.exe'}`.toString()).toBe('invoice[U+202E]fdp.exe');
  });

  it('writes JSON for a data block that no value can close', () => {
    const out = jsonForScript({ a: '</script><script>alert(1)</script>', b: '\u2028' }).toString();
    expect(out).not.toContain('</script>');
    expect(out).not.toContain('<');
    expect(JSON.parse(out)).toEqual({ a: '</script><script>alert(1)</script>', b: '\u2028' });
  });
});
