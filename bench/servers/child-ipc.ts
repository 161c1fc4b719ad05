/** The one message every bench server child sends its parent once it listens. */
export interface ReadyMessage {
  type: 'ready';
  port: number;
  /** keygate only: the client key the load must use. Sent over IPC, never printed. */
  clientKey?: string;
  /** keygate only: which pipeline features this process has on (limits, guard). */
  features?: Record<string, string>;
}

export function sendReady(msg: Omit<ReadyMessage, 'type'>): void {
  process.send?.({ type: 'ready', ...msg } satisfies ReadyMessage);
}

/** Children stop on SIGTERM/SIGINT or when the parent's IPC channel closes (parent died). */
export function onStop(stop: () => Promise<void>): void {
  let stopping = false;
  const run = () => {
    if (stopping) return;
    stopping = true;
    stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', run);
  process.on('SIGINT', run);
  process.on('disconnect', run);
}

/** Memory after a full collection, as the soak asks for it (the child runs with --expose-gc). */
export interface MemoryMessage {
  type: 'memory';
  rssMb: number;
  heapUsedMb: number;
}

/** Answers the parent's `{ type: 'memory' }` requests: a full GC, a moment to return pages, then the figures. */
export function answerMemoryRequests(): void {
  process.on('message', (m: { type?: string }) => {
    if (m?.type !== 'memory') return;
    (globalThis as { gc?: () => void }).gc?.();
    setTimeout(() => {
      const u = process.memoryUsage();
      process.send?.({ type: 'memory', rssMb: u.rss / 1e6, heapUsedMb: u.heapUsed / 1e6 } satisfies MemoryMessage);
    }, 500);
  });
}
