// .env files for `dsf init` (written) and `dsf fhir|bpe|site --env-file` (read): NAME=value a line,
// # comments, values optionally in double quotes (with \n, \" and \\ escapes).

export function parseEnvFile(text: string, file = '.env'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const l = raw.trim();
    if (!l || l.startsWith('#')) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(l);
    if (!m) throw new Error(`${file}:${i + 1}: not NAME=value`);
    let v = m[2]!.trim();
    if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) v = v.slice(1, -1).replace(/\\(["\\n])/g, (_x, c: string) => (c === 'n' ? '\n' : c));
    out[m[1]!] = v;
  }
  return out;
}

export function formatEnvFile(entries: readonly (readonly [name: string, value: string, comment?: string])[], header: string[]): string {
  const quote = (v: string) => (/^[A-Za-z0-9_./:@,|+-]*$/.test(v) ? v : `"${v.replace(/["\\]/g, (c) => `\\${c}`).replace(/\n/g, '\\n')}"`);
  const lines = header.map((h) => `# ${h}`);
  for (const [name, value, comment] of entries) {
    if (comment) lines.push('', `# ${comment}`);
    lines.push(`${name}=${quote(value)}`);
  }
  return `${lines.join('\n')}\n`;
}
