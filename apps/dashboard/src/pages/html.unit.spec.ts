import { escapeHtml, html, raw } from './html.js';

describe('html', () => {
  it('escapes every interpolated string, attribute quotes included', () => {
    const reason = `<script>alert("x")</script> & 'y' \`z\``;
    expect(html`<p title="${reason}">${reason}</p>`.toString()).toBe(
      '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39; &#96;z&#96;">' +
        '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39; &#96;z&#96;</p>',
    );
  });

  it('nests templates without escaping them twice, joins arrays and drops empty values', () => {
    const items = ['a<b', 'c'].map((s) => html`<li>${s}</li>`);
    // prettier-ignore
    const rendered = html`<ul>${items}</ul>${null}${undefined}${false}${0}`;
    expect(rendered.toString()).toBe('<ul><li>a&lt;b</li><li>c</li></ul>0');
  });

  it('passes only raw markup through unescaped', () => {
    expect(html`${raw('<br>')}${'<br>'}`.toString()).toBe('<br>&lt;br&gt;');
    expect(escapeHtml('"&')).toBe('&quot;&amp;');
  });
});
