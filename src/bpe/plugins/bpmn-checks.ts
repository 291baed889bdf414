// The reference's checks of a plugin's BPMN: one process per file, id domainNoDots_name, version tag =
// resource version, every camunda:class mapped to an activity of the kind its element needs, and the
// fields instantiatesCanonical, messageName and profile on every message send/throw/end.
// API v1 differs in one point: there every service task, send task, message throw and message end
// event names a JavaDelegate, so any of those activity kinds fits any of those elements.
import type { FlowNode, Implementation, ProcessModel } from '../engine/index.ts';
import { PROCESS_ID_PATTERN, type ActivityClass, type ActivityKind } from '../../plugin-api/index.ts';
import type { PluginApiVersion } from './api-v1-conversion.ts';

const SEND_FIELDS = ['instantiatesCanonical', 'messageName', 'profile'] as const;
const V1_JAVA_DELEGATE_KINDS: readonly ActivityKind[] = ['ServiceTask', 'MessageSendTask', 'MessageIntermediateThrowEvent', 'MessageEndEvent'];

export function checkProcessModel(model: ProcessModel, resourceVersion: string, activities: ReadonlyMap<string, ActivityClass>, apiVersion: PluginApiVersion = 2): string[] {
  const problems: string[] = [];
  if (!PROCESS_ID_PATTERN.test(model.id)) problems.push(`process id '${model.id}' does not match domainNoDots_name (${PROCESS_ID_PATTERN.source})`);
  if (model.versionTag !== resourceVersion) {
    problems.push(`process ${model.id}: camunda:versionTag '${model.versionTag ?? ''}' does not match the plugin's resource version '${resourceVersion}'`);
  }
  const needs = (where: string, impl: Implementation | null, kind: ActivityKind) => {
    const className = impl?.className;
    if (!className) return;
    const cls = activities.get(className);
    if (!cls) problems.push(`${where}: camunda:class '${className}' is not mapped to an activity in the plugin definition`);
    else if (!fits(cls.activityKind, kind, apiVersion)) problems.push(`${where}: camunda:class '${className}' is a ${cls.activityKind ?? 'non-activity'}, a ${kind} is needed here`);
  };
  for (const l of model.executionListeners) needs(`process ${model.id} ${l.event} listener`, l.implementation, 'ExecutionListener');
  for (const f of model.flows.values()) for (const l of f.listeners) needs(`sequence flow '${f.id}' take listener`, l.implementation, 'ExecutionListener');
  for (const n of model.nodes.values()) {
    const where = `${n.kind} '${n.id}'`;
    for (const l of n.executionListeners) needs(`${where} ${l.event} listener`, l.implementation, 'ExecutionListener');
    for (const l of n.taskListeners) needs(`${where} ${l.event} task listener`, l.implementation, 'UserTaskListener');
    const kind = expectedKind(n);
    if (kind) needs(where, n.implementation, kind);
    if (isMessageSend(n)) {
      const missing = SEND_FIELDS.filter((name) => !n.implementation?.fields.some((f) => f.name === name && f.source.trim() !== ''));
      if (missing.length) problems.push(`${where}: mandatory camunda:field ${missing.join(', ')} missing`);
    }
  }
  return problems;
}

function fits(actual: ActivityKind | undefined, needed: ActivityKind, apiVersion: PluginApiVersion): boolean {
  if (actual === needed) return true;
  return apiVersion === 1 && actual !== undefined && V1_JAVA_DELEGATE_KINDS.includes(actual) && V1_JAVA_DELEGATE_KINDS.includes(needed);
}

function expectedKind(n: FlowNode): ActivityKind | undefined {
  switch (n.kind) {
    case 'serviceTask':
      return 'ServiceTask';
    case 'sendTask':
      return 'MessageSendTask';
    case 'intermediateThrowEvent':
      return n.event?.type === 'message' ? 'MessageIntermediateThrowEvent' : undefined;
    case 'endEvent':
      return n.event?.type === 'message' ? 'MessageEndEvent' : undefined;
    default:
      return undefined;
  }
}

/** Elements that send a Task: send tasks, message intermediate throw events, message end events. */
export function isMessageSend(n: FlowNode): boolean {
  return n.kind === 'sendTask' || ((n.kind === 'intermediateThrowEvent' || n.kind === 'endEvent') && n.event?.type === 'message');
}
