// Other connections see a user task only once the command that created it commits, yet its create
// listener may already have published it (DSF's default listener creates the QuestionnaireResponse
// right then), so an answer can arrive first. The engine remembers, per user task, the end of the
// command that created it, so completing one waits for that end instead of failing as unknown.
export class UserTasksInFlight {
  private readonly creators = new Map<string, Promise<void>>();

  /** Marks a user task as created by a command that has not ended; `ended` resolves when it has. */
  add(userTaskId: string, ended: Promise<void>): void {
    this.creators.set(userTaskId, ended);
  }

  /** Called when the creating command committed or rolled back. */
  delete(userTaskId: string): void {
    this.creators.delete(userTaskId);
  }

  /** The end of the command creating this user task, if one is still running in this engine. */
  creatorOf(userTaskId: string): Promise<void> | undefined {
    return this.creators.get(userTaskId);
  }
}
