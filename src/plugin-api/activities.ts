// The activities a plugin implements, one class per `camunda:class` name in its BPMN (API v2
// semantics). The BPE checks each class against the element that names it: a service task needs a
// ServiceTask, a send task a MessageSendTask, a message throw event a MessageIntermediateThrowEvent,
// a message end event a MessageEndEvent, an execution listener an ExecutionListener, a user task's
// task listener a UserTaskListener. A fresh instance is made for every execution, with the
// element's camunda:field values (other than the three send values) passed to the constructor.
import type { TaskInput } from '@medplum/fhirtypes';
import {
  DefaultErrorHandler,
  DefaultMessageActivityErrorHandler,
  DefaultMessageEndEventErrorHandler,
  DefaultMessageSendTaskErrorHandler,
  type ExecutionListenerErrorHandler,
  type MessageActivityErrorHandler,
  type SendTaskValues,
  type ServiceTaskErrorHandler,
  type UserTaskListenerErrorHandler,
} from './errors.ts';
import type { ProcessPluginApi } from './services.ts';
import type { Target } from './targets.ts';
import { BusinessKeyStrategies, DefaultTaskSender, type BusinessKeyStrategy, type TaskSender } from './task-sender.ts';
import type { Variables } from './variables.ts';

/** camunda:field values of the element (strings, or the values of field expressions). */
export type ActivityFields = Readonly<Record<string, unknown>>;

export type ActivityKind = 'ServiceTask' | 'MessageSendTask' | 'MessageIntermediateThrowEvent' | 'MessageEndEvent' | 'ExecutionListener' | 'UserTaskListener';

export abstract class Activity {
  /** Which elements may name this class (checked when the plugin loads). */
  static readonly activityKind: ActivityKind;
  constructor(protected readonly fields: ActivityFields = {}) {}
}

export abstract class ServiceTask extends Activity {
  static override readonly activityKind: ActivityKind = 'ServiceTask';
  abstract execute(api: ProcessPluginApi, variables: Variables): Promise<void> | void;
  getErrorHandler(): ServiceTaskErrorHandler {
    return new DefaultErrorHandler();
  }
}

/** Shared by the three message activities: by default they send one Task to `variables.getTarget()`. */
export abstract class MessageActivity extends Activity {
  async execute(api: ProcessPluginApi, variables: Variables, sendTaskValues: SendTaskValues): Promise<void> {
    await this.getTaskSender(api, variables, sendTaskValues).send();
  }
  getTaskSender(api: ProcessPluginApi, variables: Variables, sendTaskValues: SendTaskValues): TaskSender {
    return new DefaultTaskSender(api, variables, sendTaskValues, this.getBusinessKeyStrategy(), (target) =>
      this.getAdditionalInputParameters(api, variables, sendTaskValues, target),
    );
  }
  getBusinessKeyStrategy(): BusinessKeyStrategy {
    return BusinessKeyStrategies.SAME;
  }
  /** Extra Task inputs besides message-name, business-key and correlation-key. */
  getAdditionalInputParameters(_api: ProcessPluginApi, _variables: Variables, _sendTaskValues: SendTaskValues, _target: Target): TaskInput[] {
    return [];
  }
  abstract getErrorHandler(): MessageActivityErrorHandler;
}

export class MessageSendTask extends MessageActivity {
  static override readonly activityKind: ActivityKind = 'MessageSendTask';
  getErrorHandler(): MessageActivityErrorHandler {
    return new DefaultMessageSendTaskErrorHandler();
  }
}

export class MessageIntermediateThrowEvent extends MessageActivity {
  static override readonly activityKind: ActivityKind = 'MessageIntermediateThrowEvent';
  getErrorHandler(): MessageActivityErrorHandler {
    return new DefaultMessageActivityErrorHandler();
  }
}

export class MessageEndEvent extends MessageActivity {
  static override readonly activityKind: ActivityKind = 'MessageEndEvent';
  getErrorHandler(): MessageActivityErrorHandler {
    return new DefaultMessageEndEventErrorHandler();
  }
}

export abstract class ExecutionListener extends Activity {
  static override readonly activityKind: ActivityKind = 'ExecutionListener';
  abstract notify(api: ProcessPluginApi, variables: Variables): Promise<void> | void;
  getErrorHandler(): ExecutionListenerErrorHandler {
    return new DefaultErrorHandler();
  }
}

/** The user task that is being created: its id and its formKey (the Questionnaire url|version). */
export interface CreateQuestionnaireResponseValues {
  readonly userTaskId: string;
  readonly formKey: string;
}

export abstract class UserTaskListener extends Activity {
  static override readonly activityKind: ActivityKind = 'UserTaskListener';
  abstract notify(api: ProcessPluginApi, variables: Variables, values: CreateQuestionnaireResponseValues): Promise<void> | void;
  getErrorHandler(): UserTaskListenerErrorHandler {
    return new DefaultErrorHandler();
  }
}

/** A class a plugin maps a camunda:class name to. */
export type ActivityClass = (abstract new (fields?: ActivityFields) => Activity) & { readonly activityKind: ActivityKind };
