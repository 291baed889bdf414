// `dsf task`: start a process from a draft Task (`task start`, as `start-process`), list a site's Tasks
// with status and outputs (`task list`), and show one Task with the chain of Tasks of the same request
// across the sites of the network (`task show`): the Tasks that carry the same business key, hence
// the same trace id (src/common/trace.ts), found at each site by the search Task?business-key (a
// parameter of our FHIR server; a server without it answers the strict search with an error, shown).
import type { Command } from 'commander';
import type { Bundle, Task } from '@medplum/fhirtypes';
import { businessKeyOf, traceIdOf } from '../common/trace.ts';
import type { NetworkFile } from './demo-network.ts';
import { DEFAULT_NETWORK_FILE, readNetwork, siteClient, siteOf } from './network-access.ts';
import { describeOutput, startProcess } from './start-process.ts';
import { EXIT_FAILURE, UsageError } from './exit-codes.ts';

const TASK_STATUSES = ['draft', 'requested', 'received', 'accepted', 'rejected', 'ready', 'cancelled', 'in-progress', 'on-hold', 'failed', 'completed', 'entered-in-error'];
/** Tasks of a chain per page of the business-key search (a chain rarely fills one). */
const CHAIN_PAGE_SIZE = 500;

export interface TaskSummary {
  site: string;
  id: string;
  status: string;
  process: string;
  message?: string;
  requester?: string;
  recipient?: string;
  authoredOn?: string;
  businessKey?: string;
  traceId?: string;
  outputs: string[];
}

const inputValue = (t: Task, code: string) => t.input?.find((i) => i.type?.coding?.some((c) => c.code === code))?.valueString;

export function summarize(site: string, t: Task): TaskSummary {
  const businessKey = businessKeyOf(t);
  return {
    site,
    id: t.id ?? '?',
    status: t.status,
    process: t.instantiatesCanonical ?? '?',
    message: inputValue(t, 'message-name'),
    requester: t.requester?.identifier?.value,
    recipient: t.restriction?.recipient?.[0]?.identifier?.value,
    authoredOn: t.authoredOn,
    businessKey,
    traceId: businessKey ? traceIdOf(businessKey) : undefined,
    outputs: (t.output ?? []).map(describeOutput),
  };
}

const line = (s: TaskSummary) =>
  `${s.site.padEnd(12)} Task/${s.id} ${s.status.padEnd(11)} ${s.message ?? s.process} ${s.requester ?? '?'} -> ${s.recipient ?? '?'}${s.authoredOn ? ` ${s.authoredOn}` : ''}`;

const tasksOf = (bundle: Bundle) => (bundle.entry ?? []).map((e) => e.resource!).filter((r): r is Task => r?.resourceType === 'Task');

/** Every Task of the business key at a site. */
async function tasksWithBusinessKey(network: NetworkFile, organization: string, businessKey: string): Promise<Task[]> {
  const { client, close } = siteClient(network, siteOf(network, organization, 'the network'));
  try {
    const params = { 'business-key': businessKey, _count: String(CHAIN_PAGE_SIZE) };
    // Strict: a server that does not know the parameter must fail, not answer with every Task.
    const first = await client.searchWithStrictHandling('Task', params);
    if (!first.link?.some((l) => l.relation === 'next')) return tasksOf(first);
    return await client.searchAll<Task>('Task', params);
  } finally {
    close();
  }
}

async function searchTasks(network: NetworkFile, organization: string, query: string): Promise<Task[]> {
  const site = siteOf(network, organization, 'the network');
  const { client, close } = siteClient(network, site);
  try {
    return tasksOf(await client.search('Task', new URLSearchParams(query)));
  } finally {
    close();
  }
}

export async function listTasks(networkFile: string, organization: string, o: { status?: string; count: number }): Promise<TaskSummary[]> {
  const network = readNetwork(networkFile);
  siteOf(network, organization, networkFile);
  const q = new URLSearchParams({ _sort: '-_lastUpdated', _count: String(o.count) });
  if (o.status) q.set('status', o.status);
  return (await searchTasks(network, organization, q.toString())).map((t) => summarize(organization, t));
}

export interface TaskChain {
  task: TaskSummary;
  /** Every Task of the same business key at the sites of the network, oldest first. */
  chain: TaskSummary[];
  /** Sites that could not be asked, with the reason. */
  unreachable: { site: string; error: string }[];
}

export async function showTask(networkFile: string, organization: string, id: string): Promise<TaskChain> {
  const network = readNetwork(networkFile);
  const site = siteOf(network, organization, networkFile);
  const { client, close } = siteClient(network, site);
  let task: Task;
  try {
    task = await client.read<Task>('Task', id);
  } finally {
    close();
  }
  const summary = summarize(organization, task);
  const chain: TaskSummary[] = [];
  const unreachable: { site: string; error: string }[] = [];
  const businessKey = summary.businessKey;
  if (businessKey) {
    await Promise.all(
      network.sites.map(async (s) => {
        try {
          for (const t of await tasksWithBusinessKey(network, s.organization, businessKey)) chain.push(summarize(s.organization, t));
        } catch (e) {
          unreachable.push({ site: s.organization, error: (e as Error).message });
        }
      }),
    );
    chain.sort((a, b) => (a.authoredOn ?? '').localeCompare(b.authoredOn ?? '') || a.site.localeCompare(b.site));
  } else chain.push(summary);
  return { task: summary, chain, unreachable };
}

export function registerTaskCommand(program: Command): void {
  const task = program.command('task').description("a site's Tasks: start a process, list Tasks, show one with its chain across sites");
  task
    .command('start')
    .description("start a process at a site from its plugin's draft Task and wait for the Task to end (as `dsf start-process`); exit 1 unless it completes")
    .requiredOption('--site <organization>', 'organisation identifier of the site, e.g. Test_DIC_1')
    .requiredOption('--draft <task-identifier>', 'task-identifier of the draft Task, e.g. http://dsf.dev/bpe/Process/ping/1.0/task-start-ping')
    .option('--network <file>', 'network description', DEFAULT_NETWORK_FILE)
    .option('--input <system|code=value...>', 'string inputs replacing or adding to those of the draft')
    .option('--no-wait', 'return once the Task is created')
    .option('--timeout <seconds>', 'longest wait for the Task to end', '120')
    .action(async (o: { site: string; draft: string; network: string; input?: string[]; wait: boolean; timeout: string }) => {
      siteOf(readNetwork(o.network), o.site, o.network);
      const t = await startProcess({ network: o.network, site: o.site, draft: o.draft, input: o.input, wait: o.wait, timeoutSeconds: Number(o.timeout) }, (l) => console.log(l));
      const key = businessKeyOf(t);
      if (key) console.log(`trace ${traceIdOf(key)}`);
      if (o.wait && t.status !== 'completed') process.exitCode = EXIT_FAILURE;
    });
  task
    .command('list')
    .description("a site's Tasks, newest first, with status and outputs")
    .requiredOption('--site <organization>', 'organisation identifier of the site')
    .option('--network <file>', 'network description', DEFAULT_NETWORK_FILE)
    .option('--status <status>', `only Tasks of this status (${TASK_STATUSES.join(', ')})`)
    .option('--count <n>', 'at most this many', '20')
    .option('--json', 'print JSON')
    .action(async (o: { site: string; network: string; status?: string; count: string; json?: boolean }) => {
      if (o.status && !TASK_STATUSES.includes(o.status)) throw new UsageError(`--status '${o.status}' is not a Task status (${TASK_STATUSES.join(', ')})`);
      const count = Number(o.count);
      if (!Number.isInteger(count) || count < 1 || count > 1000) throw new UsageError(`--count '${o.count}' is not a number from 1 to 1000`);
      const tasks = await listTasks(o.network, o.site, { status: o.status, count });
      if (o.json) return console.log(JSON.stringify(tasks, null, 2));
      if (!tasks.length) console.log('no Tasks');
      for (const t of tasks) {
        console.log(line(t));
        for (const out of t.outputs) console.log(`    ${out}`);
      }
    });
  task
    .command('show <id>')
    .description('one Task with inputs, outputs and trace id, and the chain of Tasks of the same request (business key) at every site of the network')
    .requiredOption('--site <organization>', 'organisation identifier of the site that holds the Task')
    .option('--network <file>', 'network description', DEFAULT_NETWORK_FILE)
    .option('--json', 'print JSON')
    .action(async (id: string, o: { site: string; network: string; json?: boolean }) => {
      const shown = await showTask(o.network, o.site, id);
      if (o.json) return console.log(JSON.stringify(shown, null, 2));
      const t = shown.task;
      console.log(`Task/${t.id} at ${t.site}: ${t.status}`);
      console.log(`  process      ${t.process}${t.message ? ` (message ${t.message})` : ''}`);
      console.log(`  requester    ${t.requester ?? '?'} -> recipient ${t.recipient ?? '?'}`);
      console.log(`  business key ${t.businessKey ?? '(none)'}`);
      console.log(`  trace        ${t.traceId ?? '(none)'}`);
      for (const out of t.outputs) console.log(`  output       ${out}`);
      console.log(`Chain (${shown.chain.length} Tasks of this request across ${new Set(shown.chain.map((c) => c.site)).size} sites):`);
      for (const c of shown.chain) console.log(`  ${line(c)}${c.site === t.site && c.id === t.id ? '   <- this Task' : ''}`);
      for (const u of shown.unreachable) console.log(`  (${u.site} not asked: ${u.error})`);
    });
}
