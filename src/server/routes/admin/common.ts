/** Helpers every admin resource uses: who acted (for the audit trail), ids, lists, lookups. */
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { GatewayError, errors } from '../../../core/errors.js';
import type { GatewayContext } from '../../context.js';
import type { GatewayEventType } from '../../events.js';
import { parseWith } from './validation.js';

/** Emits an audit-worthy event for an admin change. `details` names what changed, never a secret. */
export function adminEvent(
  ctx: GatewayContext,
  req: FastifyRequest,
  type: GatewayEventType,
  target: string,
  details: Record<string, unknown> = {},
  outcome: 'success' | 'failure' = 'success',
): void {
  ctx.events.emit({
    type,
    actor: req.principal?.keyId ?? (req.principal?.appId ? `app:${req.principal.appId}` : 'anonymous'),
    clientId: req.principal?.clientId ?? null,
    target,
    outcome,
    address: req.clientIp,
    requestId: String(req.id),
    details,
  });
}

export const conflict = (message: string, code = 'conflict') => new GatewayError(409, 'invalid_request_error', code, message);

export const notFound = (what: string, id: string) =>
  new GatewayError(404, 'not_found_error', 'not_found', `No ${what} with id or name '${id.slice(0, 100)}'.`);

export const idParams = z.object({ id: z.string().min(1).max(100) }).strict();
export function idParam(req: FastifyRequest): string {
  return parseWith(idParams, req.params).id;
}

export const pageQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(500).default(100),
    cursor: z.string().max(200).optional(),
    offset: z.coerce.number().int().min(0).optional(),
  })
  .strict();

export interface Page<T> {
  data: T[];
  /** Pass as `cursor` to get the next page; null on the last page. */
  nextCursor: string | null;
  total: number;
}

/**
 * One page of rows ordered by (created_at, id). The cursor is the last row's position, so
 * rows added or removed meanwhile never shift a page; `offset` is there for simple UIs.
 */
export function paginate<R extends { created_at: number; id: string }, T>(rows: readonly R[], query: Record<string, unknown>, view: (r: R) => T): Page<T> {
  const q = parseWith(pageQuery, query);
  let start = q.offset ?? 0;
  if (q.cursor !== undefined) {
    const pos = decodeCursor(q.cursor);
    const i = rows.findIndex((r) => r.created_at > pos.t || (r.created_at === pos.t && r.id > pos.id));
    start = i < 0 ? rows.length : i;
  }
  const slice = rows.slice(start, start + q.limit);
  const last = slice[slice.length - 1];
  const more = start + q.limit < rows.length;
  return { data: slice.map(view), nextCursor: more && last ? Buffer.from(`${last.created_at}.${last.id}`).toString('base64url') : null, total: rows.length };
}

function decodeCursor(cursor: string): { t: number; id: string } {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const dot = text.indexOf('.');
  const t = Number(text.slice(0, dot));
  if (dot <= 0 || !Number.isSafeInteger(t)) throw errors.invalidBody("Invalid request: 'cursor' is not a cursor this API returned.", 'cursor');
  return { t, id: text.slice(dot + 1) };
}

/** Finds a user or app by id or name, or answers 404. */
export async function findIdentity<T>(repo: { get(idOrName: string): Promise<T | undefined> }, what: 'user' | 'app', idOrName: string): Promise<T> {
  const row = await repo.get(idOrName);
  if (!row) throw notFound(what, idOrName);
  return row;
}
