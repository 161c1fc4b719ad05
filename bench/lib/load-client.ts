/** The runner's handle on the load-generator child (bench/load/loader.ts). */
import type { FromLoader, LoadResult, LoadSpec } from '../load/protocol.js';
import { built } from './build.js';
import { startChild, stopChild } from './children.js';

export interface Loader {
  run(spec: LoadSpec): Promise<LoadResult>;
  stop(): Promise<void>;
}

export async function startLoader(): Promise<Loader> {
  const { proc } = await startChild({ name: 'loader', args: [built('bench/load/loader.ts')] });
  let next = 0;
  return {
    run(spec) {
      const id = ++next;
      return new Promise((resolve, reject) => {
        const onMessage = (m: FromLoader) => {
          if (m.id !== id) return;
          proc.off('message', onMessage);
          proc.off('exit', onExit);
          if (m.type === 'result') resolve(m.result);
          else reject(new Error(`load failed: ${m.message}`));
        };
        const onExit = (code: number | null) => reject(new Error(`loader exited (${code})`));
        proc.on('message', onMessage);
        proc.once('exit', onExit);
        proc.send({ type: 'run', id, spec });
      });
    },
    stop: () => stopChild(proc),
  };
}
