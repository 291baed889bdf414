// `dsf status`: is each part of a site up? Asks the status ports (GET /status of the FHIR server and
// the BPE): database reachable, BPE connected to its FHIR server's websocket, plugins and processes
// active. Exit 0 when every part asked is up (and every BPE connected), 1 otherwise.
import type { Command } from 'commander';
import { DEFAULT_NETWORK_FILE, readNetwork } from './network-access.ts';
import { EXIT_FAILURE, EXIT_OK, UsageError } from './exit-codes.ts';

export interface PartStatus {
  part: 'fhir' | 'bpe';
  url: string;
  up: boolean;
  /** The /status body (server facts), or the error. */
  details: Record<string, unknown>;
}

export interface SiteStatus {
  organization?: string;
  parts: PartStatus[];
  ok: boolean;
}

async function ask(part: 'fhir' | 'bpe', url: string, timeoutMs: number): Promise<PartStatus> {
  const statusUrl = /\/status$/.test(url) ? url : `${url.replace(/\/$/, '')}/status`;
  try {
    const r = await fetch(statusUrl, { signal: AbortSignal.timeout(timeoutMs) });
    const body = (await r.json().catch(() => ({}))) as Record<string, unknown>;
    return { part, url: statusUrl, up: r.status === 200, details: r.status === 200 ? body : { ...body, error: `HTTP ${r.status}` } };
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause?.code;
    return { part, url: statusUrl, up: false, details: { error: cause ?? (e as Error).message } };
  }
}

export async function siteStatus(organization: string | undefined, urls: { fhir?: string; bpe?: string }, timeoutMs = 5_000): Promise<SiteStatus> {
  const parts = await Promise.all([urls.fhir ? ask('fhir', urls.fhir, timeoutMs) : undefined, urls.bpe ? ask('bpe', urls.bpe, timeoutMs) : undefined]);
  const present = parts.filter((p): p is PartStatus => p !== undefined);
  const ok = present.every((p) => p.up && (p.part !== 'bpe' || p.details.connected === true));
  return { organization, parts: present, ok };
}

export function describeStatus(s: SiteStatus): string[] {
  const lines = [`${s.organization ?? 'site'}: ${s.ok ? 'ok' : 'FAILING'}`];
  for (const p of s.parts) {
    if (!p.up) {
      lines.push(`  ${p.part.toUpperCase()} down (${p.url}): ${String(p.details.error ?? 'no answer')}`);
      continue;
    }
    if (p.part === 'fhir') {
      lines.push(`  FHIR up: ${String(p.details.baseUrl ?? '')}, websocket clients ${String(p.details.websocketClients ?? '?')}`);
    } else {
      const processes = (p.details.processes as { process: string; state: string }[] | undefined) ?? [];
      const active = processes.filter((x) => x.state === 'ACTIVE').map((x) => x.process);
      lines.push(`  BPE up, ${p.details.connected ? 'connected' : 'NOT connected'} to ${String(p.details.fhirBaseUrl ?? '')}`);
      lines.push(`    plugins: ${((p.details.plugins as string[] | undefined) ?? []).join(', ') || 'none'}`);
      lines.push(`    processes active (${active.length}/${processes.length}): ${active.join(', ') || 'none'}`);
    }
  }
  return lines;
}

export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description("is each part of a site up: asks the status ports (FHIR server and BPE /status) of the sites of a network, or the URLs given; exit 0 when all are up and connected, 1 otherwise")
    .option('--network <file>', 'network description (the demo writes one)', DEFAULT_NETWORK_FILE)
    .option('--site <organization...>', 'only these sites of the network')
    .option('--fhir <url>', 'status URL of a FHIR server (http://host:port), instead of a network')
    .option('--bpe <url>', 'status URL of a BPE (http://host:port), instead of a network')
    .option('--timeout <seconds>', 'longest wait for each answer', '5')
    .option('--json', 'print JSON')
    .action(async (o: { network: string; site?: string[]; fhir?: string; bpe?: string; timeout: string; json?: boolean }) => {
      const timeoutMs = Number(o.timeout) * 1000;
      if (!(timeoutMs > 0)) throw new UsageError(`--timeout '${o.timeout}' is not a positive number`);
      let results: SiteStatus[];
      if (o.fhir || o.bpe) results = [await siteStatus(undefined, { fhir: o.fhir, bpe: o.bpe }, timeoutMs)];
      else {
        const network = readNetwork(o.network);
        const sites = network.sites.filter((s) => !o.site || o.site.includes(s.organization));
        if (o.site && sites.length !== o.site.length) throw new UsageError(`unknown site among ${o.site.join(', ')} (${network.sites.map((s) => s.organization).join(', ')})`);
        const missing = sites.filter((s) => !s.fhirStatusUrl && !s.bpeStatusUrl);
        if (missing.length) throw new UsageError(`${o.network} has no status URLs for ${missing.map((s) => s.organization).join(', ')}`);
        results = await Promise.all(sites.map((s) => siteStatus(s.organization, { fhir: s.fhirStatusUrl, bpe: s.bpeStatusUrl }, timeoutMs)));
      }
      if (o.json) console.log(JSON.stringify(results.length === 1 && !o.site && (o.fhir || o.bpe) ? results[0] : results, null, 2));
      else for (const r of results) for (const l of describeStatus(r)) console.log(l);
      process.exitCode = results.every((r) => r.ok) ? EXIT_OK : EXIT_FAILURE;
    });
}
