// Waiting for something another process does: poll until it holds. The deadline only turns a hang into
// a failure with a message; it is no assertion about speed.

export async function waitFor<T>(what: string, check: () => Promise<T | undefined | null | false> | T | undefined | null | false, timeoutMs: number, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  let failedLast = false;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
      failedLast = false;
    } catch (e) {
      lastError = e;
      failedLast = true;
    }
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${failureNote(lastError, failedLast)}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Why the last check failed, or else the last error an earlier check threw (often the cause). */
function failureNote(error: unknown, failedLast: boolean): string {
  if (error === undefined) return '';
  const message = error instanceof Error ? error.message : String(error);
  return failedLast ? `: ${message}` : ` (an earlier check failed: ${message})`;
}
