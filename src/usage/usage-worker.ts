/**
 * The usage worker thread: its own better-sqlite3 connection to the gateway's database file
 * (WAL, so the main connection keeps reading while it writes; busy_timeout, so neither fails
 * on the other's lock), writing the batches the main thread posts (src/usage/usage-worker-sink.ts)
 * with the same writer the event loop would use. Started only for a database file.
 */
import { parentPort, workerData } from 'node:worker_threads';
import BetterSqlite3 from 'better-sqlite3';
import { SqliteRequestWriter } from '../store/repositories/requests-sqlite.js';
import type { RequestRecord } from '../store/repositories/requests.js';
import type { FromWorker, ToWorker, WorkerInit } from './usage-worker-sink.js';

const port = parentPort;
if (!port) throw new Error('usage-worker.ts runs as a worker thread');
const { path, columns } = workerData as WorkerInit;

const raw = new BetterSqlite3(path, { fileMustExist: true });
raw.pragma('journal_mode = WAL');
raw.pragma('synchronous = NORMAL');
raw.pragma('busy_timeout = 5000');
const writer = new SqliteRequestWriter(raw);
// The main thread flattened the records in its column order: the same table, so the same
// order, unless a migration ran in between (then nothing can be trusted to line up).
if (writer.columns.join() !== columns.join()) throw new Error('usage worker: the requests columns differ from the main thread');

function records(n: number, values: readonly unknown[]): RequestRecord[] {
  const out: RequestRecord[] = new Array(n);
  const w = columns.length;
  for (let i = 0; i < n; i++) {
    const r: Record<string, unknown> = {};
    for (let c = 0; c < w; c++) r[columns[c]] = values[i * w + c];
    out[i] = r as unknown as RequestRecord;
  }
  return out;
}

const send = (m: FromWorker) => port.postMessage(m);

port.on('message', (m: ToWorker) => {
  if (m.t === 'write') {
    try {
      writer.write(records(m.n, m.values));
      send({ t: 'done', id: m.id, foreign: writer.takeForeignChange() });
    } catch (err) {
      // SQLite's message names a constraint or a table, never a value.
      send({ t: 'done', id: m.id, foreign: true, error: err instanceof Error ? err.message : String(err) });
    }
  } else if (m.t === 'probe') {
    send({ t: 'probe', foreign: writer.takeForeignChange() });
  } else if (m.t === 'close') {
    raw.close();
    port.close();
  }
});
send({ t: 'ready' });
