/**
 * Callback-style Fastify hooks for steps that are synchronous unless they must wait: Fastify
 * awaits an async hook (a promise and a microtask per hook per request) but calls a callback
 * hook straight through. A step returns undefined when it is done, or the promise to wait for.
 */
export type HookDone = (err?: Error) => void;

/** Runs `step(arg)` and tells Fastify when it is done: at once, or when its promise settles. */
export function runStep<A>(step: (arg: A) => Promise<void> | undefined, arg: A, done: HookDone): void {
  let pending: Promise<void> | undefined;
  try {
    pending = step(arg);
  } catch (err) {
    done(err as Error);
    return;
  }
  if (pending) pending.then(() => done(), done);
  else done();
}
