import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { node } from '../../../src/bpe/bpmn/model.ts';
import { BpmnParseError, parseBpmn } from '../../../src/bpe/bpmn/parser.ts';

const fixture = (name: string): string => readFileSync(new URL(`../../fixtures/bpmn/${name}`, import.meta.url), 'utf8');

test('parses the DSF ping process: Camunda extensions on tasks, message event definitions and multi-instance', async () => {
  const [model] = await parseBpmn(fixture('dsfdev_ping.bpmn'));
  assert.equal(model!.id, 'dsfdev_ping');
  assert.equal(model!.versionTag, '1.0.1.0');
  assert.deepEqual(model!.startEventIds, ['StartPing']);
  assert.deepEqual(node(model!, 'StartPing').event, { type: 'message', messageName: 'startPing' });
  const send = node(model!, 'SendPing');
  assert.equal(send.kind, 'intermediateThrowEvent');
  assert.equal(send.scopeId, 'PingPerTarget');
  assert.equal(send.implementation?.className, 'dev.dsf.bpe.message.SendPing');
  assert.deepEqual(
    send.implementation?.fields.map((f) => [f.name, f.source, f.isExpression]),
    [
      ['instantiatesCanonical', 'http://dsf.dev/bpe/Process/pong|1.0', false],
      ['messageName', 'ping', false],
      ['profile', 'http://dsf.dev/fhir/StructureDefinition/task-ping|1.0', false],
    ],
  );
  const sub = node(model!, 'PingPerTarget');
  assert.deepEqual(sub.multiInstance, { sequential: false, collection: '${targets.entries}', elementVariable: 'target', loopCardinality: null, completionCondition: null });
  assert.equal(sub.startEventId, 'SubStart');
  assert.equal(sub.executionListeners[0]?.implementation.className, 'dev.dsf.bpe.listener.SetCorrelationKeyListener');
  assert.deepEqual(node(model!, 'PongTimeout').event, { type: 'timer', timerKind: 'timeDuration', source: 'PT20S' });
  assert.deepEqual(node(model!, 'AwaitPong').outgoing, ['Flow_toPong', 'Flow_toTimeout']);
  assert.ok(model!.reachable.get('SelectPingTargets')!.has('EndPing'));
});

test('parses error boundary events with their error code, and Camunda async/retry/formKey attributes', async () => {
  const [pong] = await parseBpmn(fixture('dsfdev_pong.bpmn'));
  const b = node(pong!, 'TargetNotAllowed');
  assert.equal(b.attachedTo, 'SelectPongTarget');
  assert.deepEqual(b.event, { type: 'error', errorCode: 'target-not-allowed', errorName: 'targetNotAllowed' });
  assert.deepEqual(node(pong!, 'SelectPongTarget').boundaryEvents, ['TargetNotAllowed']);

  const [m] = await parseBpmn(`<?xml version="1.0"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="x">
  <bpmn:process id="p" isExecutable="true">
    <bpmn:startEvent id="s" />
    <bpmn:userTask id="u" camunda:formKey="http://example.org/Questionnaire/q|1" camunda:asyncBefore="true" camunda:asyncAfter="true" camunda:exclusive="false">
      <bpmn:extensionElements><camunda:failedJobRetryTimeCycle>R3/PT5S</camunda:failedJobRetryTimeCycle></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f" sourceRef="s" targetRef="u" />
  </bpmn:process>
</bpmn:definitions>`);
  const u = node(m!, 'u');
  assert.equal(u.formKey, 'http://example.org/Questionnaire/q|1');
  assert.equal(u.asyncBefore, true);
  assert.equal(u.asyncAfter, true);
  assert.equal(u.exclusive, false);
  assert.equal(u.retryTimeCycle, 'R3/PT5S');
});

test('reports every unsupported element by id', async () => {
  const xml = `<?xml version="1.0"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="x">
  <bpmn:process id="p" isExecutable="true">
    <bpmn:startEvent id="s" />
    <bpmn:scriptTask id="script" />
    <bpmn:intermediateThrowEvent id="esc"><bpmn:escalationEventDefinition /></bpmn:intermediateThrowEvent>
    <bpmn:subProcess id="evsub" triggeredByEvent="true" />
    <bpmn:serviceTask id="noImpl" />
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="noImpl" />
  </bpmn:process>
</bpmn:definitions>`;
  await assert.rejects(parseBpmn(xml), (e: unknown) => {
    assert.ok(e instanceof BpmnParseError);
    const text = e.problems.join('\n');
    assert.match(text, /ScriptTask 'script' is not supported/);
    assert.match(text, /'esc': EscalationEventDefinition is not supported/);
    assert.match(text, /event sub-process 'evsub'/);
    assert.match(text, /serviceTask 'noImpl' has no camunda:class/);
    return true;
  });
  await assert.rejects(parseBpmn('<not-bpmn/>'), BpmnParseError);
});
