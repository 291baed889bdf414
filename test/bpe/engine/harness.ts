// Shared by the engine tests: BPMN wrapping and an engine on a fresh test database.
import { ManualClock } from '../../../src/bpe/engine/clock.ts';
import type { DelegateExecution, DelegateFactory } from '../../../src/bpe/engine/delegate.ts';
import { ProcessEngine, type ProcessEngineOptions } from '../../../src/bpe/engine/engine.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';

export interface BpmnParts {
  messages?: string[];
  signals?: string[];
  errors?: Array<{ id: string; code: string }>;
  versionTag?: string;
}

/** Wraps flow elements into a Camunda-style BPMN definitions document. */
export function bpmn(processId: string, elements: string, parts: BpmnParts = {}): string {
  const messages = (parts.messages ?? []).map((m) => `<bpmn:message id="Message_${m}" name="${m}" />`).join('\n');
  const signals = (parts.signals ?? []).map((s) => `<bpmn:signal id="Signal_${s}" name="${s}" />`).join('\n');
  const errors = (parts.errors ?? []).map((e) => `<bpmn:error id="${e.id}" name="${e.id}" errorCode="${e.code}" />`).join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="Definitions_${processId}" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="${processId}" isExecutable="true"${parts.versionTag ? ` camunda:versionTag="${parts.versionTag}"` : ''}>
${elements}
  </bpmn:process>
${messages}
${signals}
${errors}
</bpmn:definitions>`;
}

/** `<sequenceFlow>` shorthand; condition is a JUEL expression. */
export function seq(id: string, from: string, to: string, condition?: string): string {
  if (!condition) return `<bpmn:sequenceFlow id="${id}" sourceRef="${from}" targetRef="${to}" />`;
  return `<bpmn:sequenceFlow id="${id}" sourceRef="${from}" targetRef="${to}"><bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">${condition}</bpmn:conditionExpression></bpmn:sequenceFlow>`;
}

/** A delegate from a plain function. */
export function fn(run: (execution: DelegateExecution) => Promise<void> | void): DelegateFactory {
  return () => ({ execute: async (execution: DelegateExecution) => run(execution) });
}

export interface EngineFixture {
  db: TestDatabase;
  engine: ProcessEngine;
  clock: ManualClock;
}

export async function engineFixture(options: Partial<ProcessEngineOptions> = {}): Promise<EngineFixture> {
  const db = await createTestDatabase('dsf_engine');
  const clock = new ManualClock();
  const engine = new ProcessEngine({ pool: db.pool, clock, ...options });
  await engine.migrate();
  return { db, engine, clock };
}

/** Activity ids in history order that completed. */
export async function completedActivities(engine: ProcessEngine, instanceId: string): Promise<string[]> {
  return (await engine.activityHistory(instanceId)).filter((a) => a.outcome === 'completed').map((a) => a.activityId);
}

/**
 * Process `twin`: two async service tasks of class `twin.Work` in a row, so each instance makes two jobs
 * one after the other (for tests of two engines or several workers taking jobs from one database).
 */
export function twinProcess(): string {
  return bpmn(
    'twin',
    `<bpmn:startEvent id="s" /><bpmn:serviceTask id="w1" camunda:class="twin.Work" camunda:asyncBefore="true" />
     <bpmn:serviceTask id="w2" camunda:class="twin.Work" camunda:asyncBefore="true" /><bpmn:endEvent id="e" />
     ${seq('f1', 's', 'w1')}${seq('f2', 'w1', 'w2')}${seq('f3', 'w2', 'e')}`,
  );
}
