import { bpmn, seq } from './harness.ts';

/** start -> first (async) -> second (async) -> end */
export const CRASH_PROCESS = bpmn(
  'crash',
  `<bpmn:startEvent id="s" />
   <bpmn:serviceTask id="first" camunda:class="crash.First" camunda:asyncBefore="true" />
   <bpmn:serviceTask id="second" camunda:class="crash.Second" camunda:asyncBefore="true" />
   <bpmn:endEvent id="e" />${seq('a', 's', 'first')}${seq('b', 'first', 'second')}${seq('c', 'second', 'e')}`,
);
