// Process variables the BPE itself keeps (not named by plugins).
export const BpeVariables = {
  /** The Task that started the instance (with outputs added through Variables.updateTask). */
  startTask: 'dsf.startTask',
  /** Tasks received in a scope (local variable of that scope), in arrival order. */
  tasks: 'dsf.tasks',
  /** A Task that just correlated with a waiting execution (local; moved to `tasks` when the catch event ends). */
  incomingTask: 'dsf.incomingTask',
  /** The QuestionnaireResponse that completed the latest user task. */
  questionnaireResponse: 'dsf.questionnaireResponse',
} as const;
