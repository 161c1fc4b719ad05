/** Messages between the bench runner and its load-generator child. */
export interface LoadSpec {
  origin: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  concurrency: number;
  /** Discarded: requests started before warm-up ends are not counted. */
  warmupMs: number;
  /** Fixed duration of the measured window... */
  durationMs?: number;
  /** ...or a fixed number of measured requests (soak). */
  requests?: number;
}

/** null when there were no successful samples (NaN does not survive IPC's JSON). */
export interface Percentiles {
  mean: number | null;
  p50: number | null;
  p90: number | null;
  p99: number | null;
}

export interface LoadResult {
  requests: number;
  /** All responses, warm-up included. */
  completed: number;
  errors: number;
  /** The server process's CPU time (user + system) per completed request, in µs; set by the runner. */
  cpuUsPerRequest?: number | null;
  /** Responses that were not 2xx, by status. */
  non2xx: Record<string, number>;
  seconds: number;
  rps: number;
  /** Whole request to the last byte, in ms. */
  latencyMs: Percentiles;
  /** Request to the first body byte (for SSE: the first token), in ms. */
  ttfbMs: Percentiles;
  /** Body chunks seen per response (SSE: shows whether events arrive one by one). */
  chunksPerResponse: number;
}

export type ToLoader = { type: 'run'; id: number; spec: LoadSpec };
export type FromLoader = { type: 'result'; id: number; result: LoadResult } | { type: 'failed'; id: number; message: string };
