/**
 * The load generator, a child process of its own so it never shares an event loop with a
 * server. Closed loop: `concurrency` workers on one undici Pool (one keep-alive connection
 * each), same body every time. Latencies are kept exactly (hrtime, all samples), because
 * autocannon's histogram rounds to whole milliseconds and the targets are 0.25 ms.
 */
import { Pool } from 'undici';
import { percentiles } from '../lib/percentiles.js';
import type { FromLoader, LoadResult, LoadSpec, ToLoader } from './protocol.js';

class Samples {
  #buf = new Float64Array(1 << 16);
  length = 0;
  push(v: number): void {
    if (this.length === this.#buf.length) {
      const next = new Float64Array(this.#buf.length * 2);
      next.set(this.#buf);
      this.#buf = next;
    }
    this.#buf[this.length++] = v;
  }
  view(): Float64Array {
    return this.#buf.subarray(0, this.length);
  }
}

async function run(spec: LoadSpec): Promise<LoadResult> {
  const pool = new Pool(spec.origin, { connections: spec.concurrency, pipelining: 1, keepAliveTimeout: 60_000 });
  const body = Buffer.from(spec.body);
  const headers = { ...spec.headers, 'content-type': 'application/json', 'content-length': String(body.length) };
  const latency = new Samples();
  const ttfb = new Samples();
  const non2xx: Record<string, number> = {};
  let errors = 0;
  let chunks = 0;
  let completed = 0; // warm-up included: the server's CPU time is divided by this
  let lastEnd = 0;

  const start = performance.now();
  const measureFrom = start + spec.warmupMs;
  const stopAt = spec.durationMs !== undefined ? measureFrom + spec.durationMs : Infinity;
  const wanted = spec.requests ?? Infinity;
  let started = 0; // measured requests started (for the request-count mode)

  const worker = async () => {
    for (;;) {
      const t0 = performance.now();
      if (t0 >= stopAt) return;
      const measured = t0 >= measureFrom;
      if (measured && ++started > wanted) return;
      let first = 0;
      let n = 0;
      try {
        const res = await pool.request({ path: spec.path, method: 'POST', headers, body });
        for await (const _ of res.body) {
          if (n++ === 0) first = performance.now();
        }
        const t1 = performance.now();
        completed++;
        if (!measured) continue;
        if (res.statusCode >= 300) {
          non2xx[res.statusCode] = (non2xx[res.statusCode] ?? 0) + 1;
          continue;
        }
        latency.push(t1 - t0);
        ttfb.push((first || t1) - t0);
        chunks += n;
        lastEnd = t1;
      } catch {
        if (measured) errors++;
        // A refused connection would spin: back off a little.
        await new Promise((r) => setTimeout(r, 5));
      }
    }
  };
  await Promise.all(Array.from({ length: spec.concurrency }, worker));
  await pool.close();

  // Requests started in the window, over the time until the last of them finished.
  const seconds = Math.max(1e-9, (lastEnd - measureFrom) / 1000);
  return {
    requests: latency.length,
    completed,
    errors,
    non2xx,
    seconds,
    rps: latency.length / seconds,
    latencyMs: percentiles(latency.view()),
    ttfbMs: percentiles(ttfb.view()),
    chunksPerResponse: latency.length ? chunks / latency.length : 0,
  };
}

process.on('message', (msg: ToLoader) => {
  if (msg.type !== 'run') return;
  run(msg.spec).then(
    (result) => process.send?.({ type: 'result', id: msg.id, result } satisfies FromLoader),
    (err: unknown) => process.send?.({ type: 'failed', id: msg.id, message: err instanceof Error ? err.message : String(err) } satisfies FromLoader),
  );
});
process.on('disconnect', () => process.exit(0));
// Same handshake as the servers: the runner waits for it before sending work.
process.send?.({ type: 'ready', port: 0 });
