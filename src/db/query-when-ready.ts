// A statement held until something it must wait for is done (a connection's checkout, held-back writes),
// answered in the form pg's query() was called in: a promise, or the callback given last. A submittable
// query (a cursor, a stream) is written to the connection at once by pg, so it cannot wait: refused.

/** pg's query() of any form, called through apply. */
export type QueryFn = (...args: unknown[]) => unknown;

/**
 * Sends `args` with `send` once `ready` resolves; a rejection of either goes to the caller. `refusal`: the
 * error's message for a submittable query. `args` may lose its callback (popped here).
 */
export function queryWhenReady<T>(ready: Promise<T>, send: (value: T, args: unknown[]) => unknown, args: unknown[], refusal: string): unknown {
  const config = args[0] as { submit?: unknown } | undefined;
  if (config && typeof config === 'object' && typeof config.submit === 'function') throw new Error(refusal);
  const cb = typeof args[args.length - 1] === 'function' ? (args.pop() as (err: Error | null, r?: unknown) => void) : undefined;
  const result = ready.then((value) => send(value, args) as Promise<unknown>);
  if (!cb) return result;
  result.then(
    (r) => cb(null, r),
    (e) => cb(e as Error),
  );
  return undefined;
}
