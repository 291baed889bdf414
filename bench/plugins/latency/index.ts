// The benchmark's process plugin: a Task with message `go` starts a process whose first activity
// reports to the benchmark (same process) that it runs.
import { definePlugin, ServiceTask, type ProcessPluginApi, type Variables } from '../../../src/plugin-api/index.ts';

type ProbeFunction = (businessKey: string) => void;

class Probe extends ServiceTask {
  execute(_api: ProcessPluginApi, variables: Variables): void {
    (globalThis as { dsfBenchProbe?: ProbeFunction }).dsfBenchProbe?.(variables.getBusinessKey());
  }
}

export default definePlugin({
  name: 'bench-latency',
  version: '1.0.0.0',
  releaseDate: '2025-01-01',
  processModels: ['bpe/latency.bpmn'],
  fhirResources: { benchorg_latency: ['fhir/ActivityDefinition-latency.json', 'fhir/StructureDefinition-task-latency.json'] },
  activities: { 'org.bench.Probe': Probe },
});
