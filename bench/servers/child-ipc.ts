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
