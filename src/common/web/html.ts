// HTML built from template strings with every interpolated value escaped, unless it is already
// SafeHtml (made by this module). Attributes must be quoted in templates; URLs go through safeUrl so a
// resource cannot smuggle a javascript: link into a page.

export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

/** Text safe in element content and in quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => ESCAPES[c]!);
}

function render(value: unknown): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

/** Tagged template: html`<p>${text}</p>`; arrays are joined, null/undefined/false render nothing. */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1]!;
  return new SafeHtml(out);
}

/** Markup this program wrote itself (never data). */
export function trusted(markup: string): SafeHtml {
  return new SafeHtml(markup);
}

/** An href for a link: http(s) URLs and relative paths only; anything else (javascript:, data:, ...) gives '#'. */
export function safeUrl(url: string): string {
  const u = url.trim();
  if (/^https?:\/\//i.test(u)) return u;
  // Relative: no scheme before the first '/', '?' or '#'. Control characters are refused outright.
  if (/[\u0000-\u001f\u007f\\]/.test(u)) return '#';
  const schemeEnd = u.search(/[/?#]/);
  const head = schemeEnd < 0 ? u : u.slice(0, schemeEnd);
  return head.includes(':') ? '#' : u;
}

/** JSON placed inside <script type="application/json">: nothing in it can close the element. */
export function jsonForScript(value: unknown): SafeHtml {
  return new SafeHtml(
    JSON.stringify(value)
      .replace(/</g, '\\u003c')
      .replace(/>/g, '\\u003e')
      .replace(/&/g, '\\u0026')
      .replace(/\u2028/g, '\\u2028')
      .replace(/\u2029/g, '\\u2029'),
  );
}
