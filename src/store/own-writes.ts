/**
 * Tells "another process changed the database" apart from "our own usage worker committed".
 *
 * Caches (keys, IP rules) are dropped when SQLite's data_version moves, which it does for a
 * commit by any other connection, and the usage worker (src/usage/usage-worker.ts) is another
 * connection: without this, every usage batch would empty the key cache. A move while a batch
 * of ours may have landed is ambiguous, so it is not trusted either way: the worker is asked
 * (probe), and it can answer exactly, because it reads its own data_version inside its write
 * lock. Until it answers (a message round trip) the caches stay; a change it reports, or any
 * move with no batch of ours about, drops them. A change by this process's main connection
 * reads as foreign to the worker: a cache drop too many, never one too few.
 */
export class OwnWrites {
  #inFlight = 0;
  #sinceCheck = false;
  #foreign = false;
  #probe: (() => void) | null = null;

  /** The writer that asks its connection; set while one runs. */
  attach(probe: (() => void) | null): void {
    this.#probe = probe;
  }

  /** A batch of ours is about to be written. */
  begin(): void {
    this.#inFlight++;
    this.#sinceCheck = true;
  }

  /** It committed (or failed); `foreign` when the writer saw another connection's commit. */
  end(foreign: boolean): void {
    this.#inFlight--;
    if (foreign) this.#foreign = true;
  }

  /** The writer saw another connection's commit (a probe's answer, or no writer to ask). */
  foreignChange(): void {
    this.#foreign = true;
  }

  /** changedElsewhere's answer, given whether data_version moved since the last check. */
  judge(moved: boolean): boolean {
    if (moved) {
      const ours = this.#sinceCheck;
      // Batches done by now are in what this check read; one still in flight may land after.
      this.#sinceCheck = this.#inFlight > 0;
      if (!ours || !this.#probe) return this.#take() || true;
      this.#probe();
    }
    return this.#take();
  }

  #take(): boolean {
    const f = this.#foreign;
    this.#foreign = false;
    return f;
  }
}
