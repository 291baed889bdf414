// Public entry of the process engine.
export { ProcessEngine } from './engine.ts';
export type {
  ProcessEngineOptions,
  StartOptions,
  MessageStartOptions,
  CorrelationOptions,
  CorrelationResult,
  InTransaction,
  InstanceInfo,
  ActivityHistory,
  UserTask,
  Incident,
} from './engine.ts';
export { BpmnError } from './delegate.ts';
export type {
  DelegateExecution,
  DelegateTask,
  JavaDelegate,
  ExecutionListener,
  TaskListener,
  DelegateFactory,
  DelegateInstance,
  DelegateRegistry,
  VariableScope,
} from './delegate.ts';
export { EngineError, MessageCorrelationError, type DeployedDefinition } from './definitions.ts';
export { DeploymentError } from './deployment-check.ts';
export { ManualClock, systemClock, type Clock } from './clock.ts';
export type { EngineHooks, InstanceEndInfo } from './engine-services.ts';
export type { JobExecutorOptions } from './job-executor.ts';
export { migrateEngine, ENGINE_MIGRATIONS } from './schema.ts';
// The parsed model, for callers that check BPMN files before deploying them (the BPE's plugin checks).
export { parseBpmn, BpmnParseError } from '../bpmn/parser.ts';
export type { ProcessModel, FlowNode, NodeKind, Implementation, FieldInjection, ExecutionListenerEvent } from '../bpmn/model.ts';
