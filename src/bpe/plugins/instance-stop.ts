// An activity error its handler did not absorb: as in the reference, the process instance is stopped
// (cancelled). Thrown out of the engine command, which rolls back; whoever ran the command then
// cancels the instance (the Tasks were already set to failed by the error handler).
export class ProcessInstanceStop extends Error {
  constructor(
    readonly instanceId: string,
    readonly reason: unknown,
  ) {
    super(`process instance ${instanceId} stopped: ${reason instanceof Error ? reason.message : String(reason)}`, { cause: reason });
    this.name = 'ProcessInstanceStop';
  }
}
