// `dsf start-process`: starts a process at a site of a network described by a network.json (the demo's),
// as a user of the DSF UI does: the plugin's draft Task, copied as requested Task with the site's
// organisation certificate; then waits for the Task to end and prints its outputs.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { Extension, Task, TaskInput, TaskOutput } from '@medplum/fhirtypes';
import { HttpFhirClient } from '../bpe/client/http-fhir-client.ts';
import { HttpsClient } from '../common/https-client.ts';
import { findDraftTask, requestedTaskFrom } from '../plugin-api/draft-tasks.ts';
import { waitFor } from '../common/polling.ts';
import type { NetworkFile } from './demo-network.ts';

export interface StartProcessOptions {
  network: string;
  site: string;
  draft: string;
  /** system|code=value string inputs replacing or adding to the draft's. */
  input?: string[];
  /** Inputs of any type, after those of `input`. */
  inputs?: TaskInput[];
  wait: boolean;
  timeoutSeconds: number;
}

/** system|code=value -> a string input. */
export function parseInput(text: string): TaskInput {
  const m = /^([^|=]+)\|([^=]+)=(.*)$/s.exec(text);
  if (!m) throw new Error(`--input '${text}' is not system|code=value`);
  return { type: { coding: [{ system: m[1]!, code: m[2]! }] }, valueString: m[3]! };
}

function valueText(x: Record<string, unknown>): string {
  const [key, value] = Object.entries(x).find(([k]) => k.startsWith('value')) ?? [];
  if (key === undefined) return '';
  if (value && typeof value === 'object') {
    const v = value as { code?: string; value?: string; reference?: string };
    return v.code ?? v.value ?? v.reference ?? JSON.stringify(value);
  }
  return String(value);
}

/** One line per output: its code, its value, and the values of its extension's parts. */
export function describeOutput(output: TaskOutput): string {
  const code = output.type?.coding?.[0]?.code ?? '?';
  const parts = (output.extension ?? []).flatMap((e: Extension) => (e.extension ?? []).map((p) => `${p.url}=${valueText(p as unknown as Record<string, unknown>)}`));
  return `${code}: ${valueText(output as unknown as Record<string, unknown>)}${parts.length ? ` (${parts.join(', ')})` : ''}`;
}

export async function startProcess(o: StartProcessOptions, print: (line: string) => void): Promise<Task> {
  const network = JSON.parse(readFileSync(o.network, 'utf8')) as NetworkFile;
  const site = network.sites.find((s) => s.organization === o.site);
  if (!site) throw new Error(`no site ${o.site} in ${o.network} (${network.sites.map((s) => s.organization).join(', ')})`);
  const http = new HttpsClient({ cert: readFileSync(site.clientCert, 'utf8'), key: readFileSync(site.clientKey, 'utf8'), ca: readFileSync(network.ca, 'utf8') });
  try {
    const client = new HttpFhirClient({ http, baseUrl: site.fhirBaseUrl, connectTimeoutMs: 5_000, readTimeoutMs: 60_000 });
    const created = await client.create(requestedTaskFrom(await findDraftTask(client, o.draft), [...(o.input ?? []).map(parseInput), ...(o.inputs ?? [])]));
    print(`Task ${site.fhirBaseUrl}/Task/${created.id} created (${created.instantiatesCanonical})`);
    if (!o.wait) return created;
    const done = await waitFor(
      `Task/${created.id} to end`,
      async () => {
        const t = await client.read<Task>('Task', created.id!);
        return t.status === 'completed' || t.status === 'failed' ? t : undefined;
      },
      o.timeoutSeconds * 1000,
      200,
    );
    print(`status ${done.status}`);
    for (const output of done.output ?? []) print(`  ${describeOutput(output)}`);
    return done;
  } finally {
    http.close();
  }
}

export function registerStartProcessCommand(program: Command): void {
  program
    .command('start-process')
    .description("start a process at a site from its plugin's draft Task and wait for the Task to end")
    .requiredOption('--site <organization>', 'organisation identifier of the site, e.g. Test_DIC_1')
    .requiredOption('--draft <task-identifier>', 'task-identifier of the draft Task, e.g. http://dsf.dev/bpe/Process/ping/1.0/task-start-ping')
    .option('--network <file>', 'network description', process.env.DSF_DEMO_DIR ? `${process.env.DSF_DEMO_DIR}/network.json` : '.dsf/demo/network.json')
    .option('--input <system|code=value...>', 'string inputs replacing or adding to those of the draft')
    .option('--no-wait', 'return once the Task is created')
    .option('--timeout <seconds>', 'longest wait for the Task to end', '120')
    .action(async (o: { site: string; draft: string; network: string; input?: string[]; wait: boolean; timeout: string }) => {
      const task = await startProcess({ network: o.network, site: o.site, draft: o.draft, input: o.input, wait: o.wait, timeoutSeconds: Number(o.timeout) }, (l) => console.log(l));
      if (o.wait && task.status !== 'completed') process.exitCode = 1;
    });
}
