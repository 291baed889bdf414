// BPMN errors as DSF plugins catch them: camunda:errorCodeVariable / errorMessageVariable on error
// boundary events and on error start events of event sub-processes.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { BpmnError } from '../../../src/bpe/engine/delegate.ts';
import { bpmn, completedActivities, engineFixture, fn, seq, type EngineFixture } from './harness.ts';

const seen: Array<Record<string, unknown>> = [];
const delegates = new Map([
  [
    // Throws the BPMN error named by the variable throwCode (for the current target, if any).
    'test.Throw',
    fn((e) => {
      const target = e.getVariable('target');
      const failFor = e.getVariable('failFor');
      if (failFor !== undefined && failFor !== target) return;
      const message = e.getVariable('throwMessage');
      throw new BpmnError(String(e.getVariable('throwCode')), message === undefined ? undefined : String(message));
    }),
  ],
  // Reads the error variables the way DSF's ErrorBoundaryEventTestVerify does.
  ['test.Verify', fn((e) => void seen.push({ at: e.getCurrentActivityId(), code: e.getVariable('errorCode'), message: e.getVariable('errorMessage') }))],
  ['test.Work', fn((e) => e.setVariable(`worked_${String(e.getVariable('target') ?? e.getCurrentActivityId())}`, true))],
]);

let f: EngineFixture;
before(async () => {
  f = await engineFixture({ delegates });
});
after(() => f.db.drop());

test('an error boundary event with camunda:errorCodeVariable and errorMessageVariable gives the caught code and message to what follows', async () => {
  await f.engine.deploy(
    bpmn(
      'boundaryVars',
      `<bpmn:startEvent id="s" />
       <bpmn:serviceTask id="throwing" camunda:class="test.Throw" />
       <bpmn:boundaryEvent id="caught" attachedToRef="throwing">
         <bpmn:errorEventDefinition camunda:errorCodeVariable="errorCode" camunda:errorMessageVariable="errorMessage" />
       </bpmn:boundaryEvent>
       <bpmn:serviceTask id="verify" camunda:class="test.Verify" /><bpmn:endEvent id="e" />
       ${seq('a', 's', 'throwing')}${seq('b', 'throwing', 'verify')}${seq('c', 'caught', 'verify')}${seq('d', 'verify', 'e')}`,
    ),
  );
  seen.length = 0;
  const inst = await f.engine.startProcessByKey('boundaryVars', { variables: { throwCode: 'testErrorCode', throwMessage: 'testErrorMessage' } });
  assert.equal(inst.state, 'completed');
  assert.deepEqual(seen, [{ at: 'verify', code: 'testErrorCode', message: 'testErrorMessage' }]);
  const vars = await f.engine.getVariables(inst.id);
  assert.deepEqual([vars.errorCode, vars.errorMessage], ['testErrorCode', 'testErrorMessage']); // set on the process instance
  // A BpmnError without a message leaves the message variable null.
  const noMessage = await f.engine.startProcessByKey('boundaryVars', { variables: { throwCode: 'other' } });
  assert.deepEqual(seen[1], { at: 'verify', code: 'other', message: null });
  assert.equal((await f.engine.getVariables(noMessage.id)).errorMessage, null);
});

test('an error end event in a sub-process passes the code and the camunda:errorMessage of its bpmn:error to a boundary event', async () => {
  await f.engine.deploy(
    bpmn(
      'endEventVars',
      `<bpmn:startEvent id="s" />
       <bpmn:subProcess id="sub">
         <bpmn:startEvent id="ss" /><bpmn:endEvent id="fail"><bpmn:errorEventDefinition errorRef="Error_broken" /></bpmn:endEvent>${seq('s1', 'ss', 'fail')}
       </bpmn:subProcess>
       <bpmn:boundaryEvent id="caught" attachedToRef="sub">
         <bpmn:errorEventDefinition errorRef="Error_broken" camunda:errorCodeVariable="errorCode" camunda:errorMessageVariable="errorMessage" />
       </bpmn:boundaryEvent>
       <bpmn:serviceTask id="verify" camunda:class="test.Verify" /><bpmn:endEvent id="e" /><bpmn:endEvent id="normal" />
       ${seq('a', 's', 'sub')}${seq('b', 'sub', 'normal')}${seq('c', 'caught', 'verify')}${seq('d', 'verify', 'e')}`,
    ).replace('</bpmn:definitions>', '<bpmn:error id="Error_broken" name="broken" errorCode="broken" camunda:errorMessage="the sub-process broke" />\n</bpmn:definitions>'),
  );
  seen.length = 0;
  const inst = await f.engine.startProcessByKey('endEventVars');
  assert.equal(inst.endActivityId, 'e');
  assert.deepEqual(seen, [{ at: 'verify', code: 'broken', message: 'the sub-process broke' }]);
});

const eventSubProcess = (id: string, errorRef: string): string => `
  <bpmn:subProcess id="${id}" triggeredByEvent="true">
    <bpmn:startEvent id="${id}Start">
      <bpmn:errorEventDefinition ${errorRef ? `errorRef="${errorRef}" ` : ''}camunda:errorCodeVariable="errorCode" camunda:errorMessageVariable="errorMessage" />
    </bpmn:startEvent>
    <bpmn:serviceTask id="${id}Verify" camunda:class="test.Verify" /><bpmn:endEvent id="${id}End" />
    ${seq(`${id}F1`, `${id}Start`, `${id}Verify`)}${seq(`${id}F2`, `${id}Verify`, `${id}End`)}
  </bpmn:subProcess>`;

test('an error event sub-process of the process catches the error, cancels the other tokens and ends the instance', async () => {
  await f.engine.deploy(
    bpmn(
      'processHandler',
      `<bpmn:startEvent id="s" /><bpmn:parallelGateway id="fork" />
       <bpmn:userTask id="waiting" /><bpmn:serviceTask id="throwing" camunda:class="test.Throw" />
       <bpmn:endEvent id="e1" /><bpmn:endEvent id="e2" />
       ${seq('a', 's', 'fork')}${seq('b', 'fork', 'waiting')}${seq('c', 'fork', 'throwing')}${seq('d', 'waiting', 'e1')}${seq('g', 'throwing', 'e2')}
       ${eventSubProcess('handler', '')}`,
    ),
  );
  seen.length = 0;
  const inst = await f.engine.startProcessByKey('processHandler', { variables: { throwCode: 'anything', throwMessage: 'went wrong' } });
  assert.equal(inst.state, 'completed');
  assert.equal(inst.endActivityId, 'handlerEnd');
  assert.deepEqual(seen, [{ at: 'handlerVerify', code: 'anything', message: 'went wrong' }]);
  assert.equal((await f.engine.listUserTasks({ instanceId: inst.id })).length, 0);
  const history = await f.engine.activityHistory(inst.id);
  assert.equal(history.find((h) => h.activityId === 'waiting')?.outcome, 'cancelled');
  assert.deepEqual(
    history.filter((h) => h.activityId.startsWith('handler')).map((h) => [h.activityId, h.outcome]),
    [['handler', 'completed'], ['handlerStart', 'completed'], ['handlerVerify', 'completed'], ['handlerEnd', 'completed']],
  );
});

test('an error event sub-process inside a sub-process: its scope completes normally; codes it does not name go on to the boundary event', async () => {
  await f.engine.deploy(
    bpmn(
      'scopedHandler',
      `<bpmn:startEvent id="s" />
       <bpmn:subProcess id="sub">
         <bpmn:startEvent id="ss" /><bpmn:serviceTask id="throwing" camunda:class="test.Throw" /><bpmn:endEvent id="se" />
         ${seq('s1', 'ss', 'throwing')}${seq('s2', 'throwing', 'se')}
         ${eventSubProcess('innerHandler', 'Error_inner')}
       </bpmn:subProcess>
       <bpmn:boundaryEvent id="outer" attachedToRef="sub"><bpmn:errorEventDefinition camunda:errorCodeVariable="outerCode" /></bpmn:boundaryEvent>
       <bpmn:serviceTask id="after" camunda:class="test.Work" /><bpmn:endEvent id="e" /><bpmn:endEvent id="viaBoundary" />
       ${seq('a', 's', 'sub')}${seq('b', 'sub', 'after')}${seq('c', 'after', 'e')}${seq('d', 'outer', 'viaBoundary')}`,
      { errors: [{ id: 'Error_inner', code: 'inner' }] },
    ),
  );
  seen.length = 0;
  const handled = await f.engine.startProcessByKey('scopedHandler', { variables: { throwCode: 'inner' } });
  assert.equal(handled.endActivityId, 'e'); // the sub-process completed through its handler, then 'after' ran
  assert.deepEqual(seen, [{ at: 'innerHandlerVerify', code: 'inner', message: null }]);
  assert.ok((await completedActivities(f.engine, handled.id)).includes('sub'));

  const passedOn = await f.engine.startProcessByKey('scopedHandler', { variables: { throwCode: 'outer' } });
  assert.equal(passedOn.endActivityId, 'viaBoundary');
  assert.equal((await f.engine.getVariables(passedOn.id)).outerCode, 'outer');
  assert.equal(seen.length, 1);
});

test('an error event sub-process inside a multi-instance sub-process handles the failing instance alone', async () => {
  await f.engine.deploy(
    bpmn(
      'perTargetHandler',
      `<bpmn:startEvent id="s" />
       <bpmn:subProcess id="each">
         <bpmn:multiInstanceLoopCharacteristics camunda:collection="\${targets}" camunda:elementVariable="target" />
         <bpmn:startEvent id="es" /><bpmn:serviceTask id="throwing" camunda:class="test.Throw" /><bpmn:serviceTask id="work" camunda:class="test.Work" /><bpmn:endEvent id="ee" />
         ${seq('e1', 'es', 'throwing')}${seq('e2', 'throwing', 'work')}${seq('e3', 'work', 'ee')}
         ${eventSubProcess('targetHandler', '')}
       </bpmn:subProcess>
       <bpmn:endEvent id="e" />${seq('a', 's', 'each')}${seq('b', 'each', 'e')}`,
    ),
  );
  seen.length = 0;
  const inst = await f.engine.startProcessByKey('perTargetHandler', { variables: { targets: ['a', 'b', 'c'], failFor: 'b', throwCode: 'unreachable', throwMessage: 'b is down' } });
  assert.equal(inst.endActivityId, 'e');
  const vars = await f.engine.getVariables(inst.id);
  assert.deepEqual([vars.worked_a, vars.worked_b, vars.worked_c], [true, undefined, true]);
  assert.deepEqual(seen, [{ at: 'targetHandlerVerify', code: 'unreachable', message: 'b is down' }]);
});
