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
  assert.deepEqual(sub.multiInstance, {
    sequential: false,
    collection: '${targets.entries}',
    elementVariable: 'target',
    loopCardinality: null,
    completionCondition: null,
    asyncBefore: false,
    asyncAfter: false,
    retryTimeCycle: null,
  });
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
  assert.deepEqual(b.event, {
    type: 'error',
    errorCode: 'target-not-allowed',
    errorName: 'targetNotAllowed',
    errorMessage: null,
    errorCodeVariable: null,
    errorMessageVariable: null,
  });
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

test('parses signal start and end events, async multi-instance loops, error variables and error event sub-processes', async () => {
  const [m] = await parseBpmn(`<?xml version="1.0"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="x">
  <bpmn:process id="p" isExecutable="true">
    <bpmn:startEvent id="bySignal"><bpmn:signalEventDefinition signalRef="Sig" /></bpmn:startEvent>
    <bpmn:subProcess id="each">
      <bpmn:multiInstanceLoopCharacteristics camunda:asyncBefore="true" camunda:asyncAfter="true" camunda:exclusive="false" camunda:collection="\${targets}" camunda:elementVariable="target">
        <bpmn:extensionElements><camunda:failedJobRetryTimeCycle>R3/PT5S</camunda:failedJobRetryTimeCycle></bpmn:extensionElements>
      </bpmn:multiInstanceLoopCharacteristics>
      <bpmn:startEvent id="eachStart" />
      <bpmn:endEvent id="eachEnd" camunda:asyncAfter="true" />
      <bpmn:sequenceFlow id="e1" sourceRef="eachStart" targetRef="eachEnd" />
      <bpmn:subProcess id="onError" triggeredByEvent="true">
        <bpmn:startEvent id="errorStart"><bpmn:errorEventDefinition errorRef="Err" camunda:errorCodeVariable="code" camunda:errorMessageVariable="message" /></bpmn:startEvent>
        <bpmn:endEvent id="errorEnd" />
        <bpmn:sequenceFlow id="e2" sourceRef="errorStart" targetRef="errorEnd" />
      </bpmn:subProcess>
    </bpmn:subProcess>
    <bpmn:boundaryEvent id="caught" attachedToRef="each"><bpmn:errorEventDefinition camunda:errorCodeVariable="c" camunda:errorMessageVariable="m" /></bpmn:boundaryEvent>
    <bpmn:endEvent id="stop"><bpmn:signalEventDefinition signalRef="Sig" /></bpmn:endEvent>
    <bpmn:endEvent id="failed"><bpmn:errorEventDefinition errorRef="Err" /></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="bySignal" targetRef="each" />
    <bpmn:sequenceFlow id="f2" sourceRef="each" targetRef="stop" />
    <bpmn:sequenceFlow id="f3" sourceRef="caught" targetRef="failed" />
    <bpmn:subProcess id="processLevel" triggeredByEvent="true">
      <bpmn:startEvent id="anyError"><bpmn:errorEventDefinition /></bpmn:startEvent>
    </bpmn:subProcess>
  </bpmn:process>
  <bpmn:signal id="Sig" name="stop_all" />
  <bpmn:error id="Err" name="Err" errorCode="broken" camunda:errorMessage="it broke" />
</bpmn:definitions>`);
  assert.deepEqual(m!.startEventIds, ['bySignal']);
  assert.deepEqual(node(m!, 'bySignal').event, { type: 'signal', signalName: 'stop_all' });
  assert.deepEqual(node(m!, 'stop').event, { type: 'signal', signalName: 'stop_all' });
  const each = node(m!, 'each');
  assert.equal(each.asyncBefore, false);
  assert.deepEqual(
    [each.multiInstance?.asyncBefore, each.multiInstance?.asyncAfter, each.multiInstance?.retryTimeCycle, each.retryTimeCycle],
    [true, true, 'R3/PT5S', null],
  );
  assert.equal(node(m!, 'eachEnd').asyncAfter, true);
  assert.deepEqual(each.eventSubProcesses, ['onError']);
  assert.deepEqual(m!.eventSubProcesses, ['processLevel']);
  assert.equal(node(m!, 'onError').triggeredByEvent, true);
  assert.equal(node(m!, 'onError').startEventId, 'errorStart');
  assert.deepEqual(node(m!, 'errorStart').event, {
    type: 'error',
    errorCode: 'broken',
    errorName: 'Err',
    errorMessage: 'it broke',
    errorCodeVariable: 'code',
    errorMessageVariable: 'message',
  });
  assert.deepEqual(node(m!, 'caught').event, { type: 'error', errorCode: null, errorName: null, errorMessage: null, errorCodeVariable: 'c', errorMessageVariable: 'm' });
});

test('event sub-processes other than error-triggered ones are refused, naming the element', async () => {
  const xml = (start: string) => `<?xml version="1.0"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="x">
  <bpmn:process id="p" isExecutable="true">
    <bpmn:startEvent id="s" /><bpmn:endEvent id="e" /><bpmn:sequenceFlow id="f" sourceRef="s" targetRef="e" />
    <bpmn:subProcess id="esp" triggeredByEvent="true">${start}<bpmn:endEvent id="ee" /><bpmn:sequenceFlow id="g" sourceRef="es" targetRef="ee" /></bpmn:subProcess>
    <bpmn:startEvent id="topError"><bpmn:errorEventDefinition /></bpmn:startEvent>
  </bpmn:process>
  <bpmn:message id="M" name="m" />
</bpmn:definitions>`;
  await assert.rejects(parseBpmn(xml('<bpmn:startEvent id="es"><bpmn:messageEventDefinition messageRef="M" /></bpmn:startEvent>')), (e: unknown) => {
    assert.ok(e instanceof BpmnParseError);
    assert.match(e.problems.join('\n'), /event sub-process 'esp': only error start events are supported/);
    assert.match(e.problems.join('\n'), /startEvent 'topError': error start events belong in an event sub-process/);
    return true;
  });
  await assert.rejects(parseBpmn(xml('<bpmn:startEvent id="es" isInterrupting="false"><bpmn:errorEventDefinition /></bpmn:startEvent>')), /startEvent 'es': error start events always interrupt/);
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
