/**
 * The PostgreSQL LISTEN connection that tells a gateway another process changed shared state
 * (a key revoked by the CLI or another replica). It reconnects with backoff after an error or
 * a dropped connection; while it is down notifications are lost, so the caches are told that
 * anything may have changed on every check until it is back.
 */
import pg from 'pg';

const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 5_000;

export class ChangeListener {
  readonly #url: string;
  readonly #channel: string;
  #client: pg.Client | null = null;
  #changed = false;
  #connected = false;
  #closed = false;
  #retryMs = FIRST_RETRY_MS;
  #timer: NodeJS.Timeout | null = null;

  constructor(url: string, channel: string) {
    this.#url = url;
    this.#channel = channel;
  }

  /** The first connection: a failure here is the caller's (the store cannot open). */
  async start(): Promise<void> {
    await this.#connect();
  }

  /** True when a notification came, or the listener is (or was) down since the last call. */
  changedElsewhere(): boolean {
    if (!this.#connected) return true;
    if (!this.#changed) return false;
    this.#changed = false;
    return true;
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const c = this.#client;
    this.#client = null;
    this.#connected = false;
    await c?.end().catch(() => undefined);
  }

  async #connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.#url });
    // Both fire when the server goes away (pg_terminate_backend, a restart, a network cut).
    const lost = () => this.#lost(client);
    client.on('error', lost);
    client.on('end', lost);
    client.on('notification', () => {
      this.#changed = true;
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${this.#channel}`);
    } catch (err) {
      client.removeListener('end', lost);
      // Not awaited: ending a client whose connection failed half-way may never settle.
      client.end().catch(() => undefined);
      throw err;
    }
    if (this.#closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.#client = client;
    this.#connected = true;
    this.#retryMs = FIRST_RETRY_MS;
  }

  #lost(client: pg.Client): void {
    if (client !== this.#client) return;
    this.#client = null;
    this.#connected = false;
    // Whatever was notified while down was missed: the next check after reconnecting drops the caches once more.
    this.#changed = true;
    client.end().catch(() => undefined);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#closed || this.#timer) return;
    const delay = this.#retryMs;
    this.#retryMs = Math.min(MAX_RETRY_MS, this.#retryMs * 2);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      if (this.#closed) return;
      this.#connect().catch(() => this.#schedule());
    }, delay);
    this.#timer.unref();
  }
}
