// Starting a process as a user of the DSF UI does: take the plugin's draft Task (by its task-identifier),
// and create a requested copy of it, with some inputs replaced or added.
import type { Task, TaskInput } from '@medplum/fhirtypes';
import { TASK_IDENTIFIER_SID } from './constants.ts';
import type { FhirClient } from './fhir-client.ts';

/** The task-identifier of a plugin's draft Task: <process url>/<version>/<name>. */
export function draftTaskIdentifier(processUrl: string, version: string, name: string): string {
  return `${processUrl}/${version}/${name}`;
}

export async function findDraftTask(client: FhirClient, identifier: string): Promise<Task> {
  const found = await client.searchAll<Task>('Task', { identifier: `${TASK_IDENTIFIER_SID}|${identifier}`, status: 'draft' });
  if (found.length === 0) throw new Error(`no draft Task ${identifier} at ${client.baseUrl} (is the plugin deployed there?)`);
  return found[0]!;
}

const codingKey = (i: TaskInput) => (i.type?.coding ?? []).map((c) => `${c.system}|${c.code}`).join(',');

/**
 * A requested Task from a draft: no id, identifier or meta other than the profile, authored now. Each
 * given input replaces the draft's inputs with the same type coding; inputs of new types are appended.
 */
export function requestedTaskFrom(draft: Task, inputs: readonly TaskInput[] = []): Task {
  const replaced = new Set(inputs.map(codingKey));
  const { id: _id, identifier: _identifier, meta, text: _text, ...rest } = draft;
  return {
    ...rest,
    meta: { profile: meta?.profile },
    status: 'requested',
    authoredOn: new Date().toISOString(),
    input: [...(draft.input ?? []).filter((i) => !replaced.has(codingKey(i))), ...inputs],
  };
}
