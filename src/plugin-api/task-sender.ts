// Sending a message = creating a Task at the target's FHIR server (the reference's DefaultTaskSender):
// status requested, intent order, requester = local organisation, recipient = target organisation,
// the profile, instantiatesCanonical, and the message-name / business-key / correlation-key inputs.
import { randomUUID } from 'node:crypto';
import type { Task, TaskInput } from '@medplum/fhirtypes';
import { BpmnMessage, ORGANIZATION_IDENTIFIER_SID } from './constants.ts';
import type { SendTaskValues } from './errors.ts';
import type { ProcessPluginApi } from './services.ts';
import type { Target } from './targets.ts';
import type { Variables } from './variables.ts';

/** Which business key the sent Task carries. */
export interface BusinessKeyStrategy {
  get(variables: Variables, target: Target): string;
}

export const BusinessKeyStrategies = {
  /** The process's own business key (the default). */
  SAME: { get: (variables: Variables) => variables.getBusinessKey() } as BusinessKeyStrategy,
  /** A new key, also remembered as the instance's alternative business key so answers correlate. */
  ALTERNATIVE: {
    get: (variables: Variables) => {
      const key = randomUUID();
      variables.setAlternativeBusinessKey(key);
      return key;
    },
  } as BusinessKeyStrategy,
  /** A new key the instance does not remember (fire and forget). */
  NEW: { get: () => randomUUID() } as BusinessKeyStrategy,
} as const;

export interface TaskSender {
  send(): Promise<void>;
}

const input = (code: string, value: string): TaskInput => ({ type: { coding: [{ system: BpmnMessage.system, code }] }, valueString: value });

export class DefaultTaskSender implements TaskSender {
  constructor(
    protected readonly api: ProcessPluginApi,
    protected readonly variables: Variables,
    protected readonly sendTaskValues: SendTaskValues,
    protected readonly businessKeyStrategy: BusinessKeyStrategy = BusinessKeyStrategies.SAME,
    protected readonly additionalInputParameters: (target: Target) => TaskInput[] = () => [],
  ) {}

  async send(): Promise<void> {
    const target = this.getTarget();
    const task = await this.createTask(target);
    const businessKey = task.input?.find((i) => i.type?.coding?.[0]?.code === BpmnMessage.businessKey)?.valueString;
    this.api.logger.info(
      `Sending task ${this.sendTaskValues.instantiatesCanonical} [recipient: ${target.organizationIdentifierValue}, endpoint: ${target.endpointIdentifierValue}, businessKey: ${businessKey}${target.correlationKey ? `, correlationKey: ${target.correlationKey}` : ''}, message: ${this.sendTaskValues.messageName}] ...`,
    );
    const created = await this.api.dsfClientProvider.getByEndpointUrl(target.endpointUrl).createMinimal(task);
    this.api.logger.info(`Task ${this.sendTaskValues.instantiatesCanonical} sent [task: ${created.location.replace(/\/_history\/.*$/, '')}]`);
  }

  protected getTarget(): Target {
    const target = this.variables.getTarget();
    if (!target) throw new Error('no target: set the process variable "target" before sending a message');
    return target;
  }

  protected async createTask(target: Target): Promise<Task> {
    const local = await this.api.organizationProvider.getLocalOrganizationIdentifierValue();
    if (!local) throw new Error('Local organization identifier unknown');
    const inputs: TaskInput[] = [
      input(BpmnMessage.messageName, this.sendTaskValues.messageName),
      input(BpmnMessage.businessKey, this.businessKeyStrategy.get(this.variables, target)),
    ];
    if (target.correlationKey) inputs.push(input(BpmnMessage.correlationKey, target.correlationKey));
    inputs.push(...this.additionalInputParameters(target));
    return {
      resourceType: 'Task',
      meta: { profile: [this.sendTaskValues.profile] },
      status: 'requested',
      intent: 'order',
      authoredOn: new Date().toISOString(),
      requester: { type: 'Organization', identifier: { system: ORGANIZATION_IDENTIFIER_SID, value: local } },
      restriction: { recipient: [{ type: 'Organization', identifier: { system: ORGANIZATION_IDENTIFIER_SID, value: target.organizationIdentifierValue } }] },
      instantiatesCanonical: this.sendTaskValues.instantiatesCanonical,
      input: inputs,
    };
  }
}
