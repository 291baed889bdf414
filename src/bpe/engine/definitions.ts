// A deployed process definition: its database identity plus the parsed model.
import type { ProcessModel } from '../bpmn/model.ts';

export interface DeployedDefinition {
  id: string;
  key: string;
  /** Engine version: 1, 2, ... per key, assigned at deployment. */
  version: number;
  versionTag: string | null;
  name: string | null;
  suspended: boolean;
  model: ProcessModel;
}

export class EngineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EngineError';
  }
}

/** A message found no waiting execution, or more than one. */
export class MessageCorrelationError extends EngineError {
  constructor(
    message: string,
    readonly matches: number,
  ) {
    super(message);
    this.name = 'MessageCorrelationError';
  }
}
