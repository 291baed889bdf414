// The escaping of the server-rendered pages, against hostile strings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { escapeHtml, html, jsonForScript, safeUrl, trusted } from '../../../src/common/web/html.ts';

const HOSTILE = [`<script>alert(1)</script>`, `"><img src=x onerror=alert(1)>`, `' onmouseover='alert(1)`, '`${x}`', '&lt;already&gt;', '</textarea><svg onload=alert(1)>'];

test('escapeHtml leaves no markup-significant character', () => {
  for (const s of HOSTILE) {
    const e = escapeHtml(s);
    assert.doesNotMatch(e, /[<>"'`]/, s);
    // & only as the start of an entity this function wrote
    assert.doesNotMatch(e.replace(/&(amp|lt|gt|quot|#39|#96);/g, ''), /&/, s);
  }
  assert.equal(escapeHtml('&lt;'), '&amp;lt;');
});

test('html`` escapes values in content and quoted attributes, keeps SafeHtml, joins arrays', () => {
  const name = HOSTILE[1]!;
  const page = html`<a title="${name}">${name}</a>${[html`<b>${'<i>'}</b>`, '<u>']}${null}${undefined}${false}${0}`.value;
  assert.equal(page, '<a title="&quot;&gt;&lt;img src=x onerror=alert(1)&gt;">&quot;&gt;&lt;img src=x onerror=alert(1)&gt;</a><b>&lt;i&gt;</b>&lt;u&gt;0');
  assert.equal(html`${trusted('<hr>')}`.value, '<hr>');
  for (const s of HOSTILE) assert.ok(!html`<p>${s}</p>`.value.slice(3, -4).includes('<'));
});

test('safeUrl keeps http(s) and relative URLs, refuses other schemes', () => {
  assert.equal(safeUrl('https://x.test/fhir/Task/1'), 'https://x.test/fhir/Task/1');
  assert.equal(safeUrl('Task/1?_format=html'), 'Task/1?_format=html');
  assert.equal(safeUrl('/fhir/Task'), '/fhir/Task');
  for (const bad of ['javascript:alert(1)', ' JavaScript:alert(1)', 'data:text/html,<b>', 'java\tscript:alert(1)', 'vbscript:x', '\\\\evil']) assert.equal(safeUrl(bad), '#', bad);
});

test('jsonForScript cannot end its script element and round-trips', () => {
  const value = { a: '</script><script>alert(1)</script>', b: 'x\u2028y & <!--' };
  const text = jsonForScript(value).value;
  assert.doesNotMatch(text, /<|>|&/);
  assert.deepEqual(JSON.parse(text), value);
});
