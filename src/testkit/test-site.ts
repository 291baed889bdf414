// One site of a test network: its FHIR server and its BPE as two child processes, a FHIR client with the
// organisation's certificate, and what a test does with a site: start a process from a draft Task, wait
// for a Task, answer a user task, stop, kill or restart the BPE or the whole site.
import type { QuestionnaireResponse, Task, TaskInput } from '@medplum/fhirtypes';
import type { FhirClient } from '../plugin-api/fhir-client.ts';
import { SiteProcess } from './child-process.ts';
import { findDraftTask, requestedTaskFrom } from '../plugin-api/draft-tasks.ts';
import { waitFor } from '../common/polling.ts';
import { completedResponse, openQuestionnaireResponses, type AnswerValue } from './user-tasks.ts';
import { recentProblems } from './log-problems.ts';
import { BpmnMessage } from '../plugin-api/constants.ts';

export type TaskStatus = NonNullable<Task['status']>;
/** A status, one of several statuses, or any condition on the Task. */
export type TaskCondition = TaskStatus | readonly TaskStatus[] | ((task: Task) => boolean);

export interface WaitOptions {
  /** Longest wait; it only turns a hang into a failure (default 60 s). */
  timeoutMs?: number;
}

export interface StartProcessOptions {
  /** Inputs replacing the draft's inputs of the same type (others are appended). */
  inputs?: readonly TaskInput[];
}

export interface AnswerUserTaskOptions extends WaitOptions {
  /** The process's business key; or the Task that started it (its business-key input is awaited). */
  businessKey?: string;
  task?: Task;
  /** Questionnaire url (with or without |version) the response must be for. */
  questionnaire?: string;
  /** linkId -> answer; a plain value takes the type of the BPE's placeholder answer. */
  answers: Readonly<Record<string, AnswerValue>>;
  /** Remove the placeholder answers of questions not answered here (default false). */
  dropUnanswered?: boolean;
}

/** A FHIR server or BPE child process as a test controls it. */
export interface SiteProcessControl {
  readonly running: boolean;
  /** Process id while it runs (e.g. to read its memory). */
  readonly pid: number | undefined;
  /** Its output so far (log lines), newest last. */
  readonly log: readonly string[];
  /** Starts it again; extra environment variables replace the configured ones for this and later starts. */
  start(env?: Readonly<Record<string, string>>): Promise<void>;
  /** SIGTERM and wait. */
  stop(): Promise<void>;
  /** SIGKILL: ends it at once, as a crash does. */
  kill(): Promise<void>;
}

/** A site's local data repository (TestSiteOptions.dataRepository). */
export interface DataRepository {
  readonly baseUrl: string;
  /** Client of the repository, with the organisation's client certificate. */
  readonly fhir: FhirClient;
  readonly server: SiteProcessControl;
  /** How many synthetic patients it holds, and the generator's seed (regenerate them to know the expected answers). */
  readonly patients: number;
  readonly seed: string;
}

export interface TestSite {
  readonly organization: string;
  /** The site's local data repository, when it has one. */
  readonly dataRepository?: DataRepository;
  readonly fhirBaseUrl: string;
  readonly endpointIdentifier: string;
  /** Client of this site's FHIR server, presenting the organisation's client certificate. */
  readonly fhir: FhirClient;
  readonly fhirServer: SiteProcessControl;
  readonly bpe: SiteProcessControl;
  /** Creates a requested copy of the draft Task with this task-identifier (see draftTaskIdentifier) and returns it. */
  startProcess(draftTaskIdentifier: string, options?: StartProcessOptions): Promise<Task>;
  /** Reads the Task until the condition holds. */
  waitForTask(id: string, until: TaskCondition, options?: WaitOptions): Promise<Task>;
  /** Completes the in-progress QuestionnaireResponse of a user task with the given answers. */
  answerUserTask(options: AnswerUserTaskOptions): Promise<QuestionnaireResponse>;
  /** Stops the BPE, then the FHIR server. */
  stop(): Promise<void>;
  /** Starts the FHIR server, then the BPE (if it was configured to run). */
  start(): Promise<void>;
}

const DEFAULT_WAIT_MS = 60_000;

function holds(task: Task, until: TaskCondition): boolean {
  if (typeof until === 'function') return until(task);
  const statuses: readonly string[] = typeof until === 'string' ? [until] : until;
  return statuses.includes(task.status ?? '');
}

export class ProcessControl implements SiteProcessControl {
  constructor(
    private readonly process: SiteProcess,
    private env: () => NodeJS.ProcessEnv,
    private readonly startTimeoutMs: number,
    private readonly extraEnv: Record<string, string> = {},
  ) {}

  get running(): boolean {
    return this.process.running;
  }
  get pid(): number | undefined {
    return this.process.running ? this.process.pid : undefined;
  }
  get log(): readonly string[] {
    return this.process.lines;
  }
  async start(env: Readonly<Record<string, string>> = {}): Promise<void> {
    Object.assign(this.extraEnv, env);
    await this.process.start({ ...this.env(), ...this.extraEnv }, this.startTimeoutMs);
  }
  stop(): Promise<void> {
    return this.process.stop();
  }
  kill(): Promise<void> {
    return this.process.kill();
  }
}

export class RunningTestSite implements TestSite {
  constructor(
    readonly organization: string,
    readonly fhirBaseUrl: string,
    readonly endpointIdentifier: string,
    readonly fhir: FhirClient,
    readonly fhirServer: ProcessControl,
    readonly bpe: ProcessControl,
    private readonly bpeEnabled: boolean,
    readonly dataRepository?: DataRepository & { server: ProcessControl },
  ) {}

  async startProcess(draftTaskIdentifier: string, options: StartProcessOptions = {}): Promise<Task> {
    const draft = await findDraftTask(this.fhir, draftTaskIdentifier);
    return this.fhir.create(requestedTaskFrom(draft, options.inputs));
  }

  waitForTask(id: string, until: TaskCondition, options: WaitOptions = {}): Promise<Task> {
    const describe = typeof until === 'function' ? 'the condition' : `status ${[until].flat().join(' or ')}`;
    let last: Task | undefined;
    return waitFor(
      `Task/${id} at ${this.organization} to reach ${describe}`,
      async () => {
        last = await this.fhir.read<Task>('Task', id);
        return holds(last, until) ? last : undefined;
      },
      options.timeoutMs ?? DEFAULT_WAIT_MS,
    ).catch((e: Error) => {
      // The site's own warnings and errors say why, where the status alone does not.
      const problems = [...(this.bpeEnabled ? recentProblems(this.bpe.log).map((l) => `  BPE: ${l}`) : []), ...recentProblems(this.fhirServer.log).map((l) => `  FHIR: ${l}`)];
      const said = problems.length ? `\n${this.organization}'s last warnings and errors:\n${problems.join('\n')}` : '';
      throw new Error(`${e.message} (last seen: status ${last?.status ?? '?'}${last?.output?.length ? `, outputs ${JSON.stringify(last.output)}` : ''})${said}`);
    });
  }

  async answerUserTask(options: AnswerUserTaskOptions): Promise<QuestionnaireResponse> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_WAIT_MS;
    let businessKey = options.businessKey;
    if (businessKey === undefined && options.task?.id) {
      const task = await this.waitForTask(options.task.id, (t) => t.input?.some((i) => i.type?.coding?.some((c) => c.system === BpmnMessage.system && c.code === BpmnMessage.businessKey)) ?? false, { timeoutMs });
      businessKey = task.input!.find((i) => i.type?.coding?.some((c) => c.code === BpmnMessage.businessKey))!.valueString;
    }
    const open = await waitFor(
      `an in-progress QuestionnaireResponse${businessKey ? ` of business key ${businessKey}` : ''} at ${this.organization}`,
      async () => (await openQuestionnaireResponses(this.fhir, businessKey, options.questionnaire))[0],
      timeoutMs,
    );
    return this.fhir.update(completedResponse(open, { ...options.answers }, options.dropUnanswered ?? false));
  }

  async stop(): Promise<void> {
    await this.bpe.stop();
    await this.fhirServer.stop();
  }

  async start(): Promise<void> {
    if (!this.fhirServer.running) await this.fhirServer.start();
    if (this.bpeEnabled && !this.bpe.running) await this.bpe.start();
  }
}
