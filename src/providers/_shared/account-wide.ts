/**
 * Account-wide data reached through endpoints that are open by default: a body field that
 * loads a stored object (OpenAI's `previous_response_id`, a `file_id`, Gemini's
 * `cachedContent`) or a header that switches a beta on (Anthropic's files API). Such a
 * reference reads what other callers of the same provider account stored, so it passes only
 * when the operator enabled the matching endpoint group, as the endpoints themselves do.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { errors } from '../../core/errors.js';
import { isRecord } from './translate.js';

/** One way a body or a header reaches an account-wide group. */
export type AccountWideRef =
  /** A key with a non-null value anywhere in the body (`equals`: only that string value). */
  | { group: string; bodyKey: string; equals?: string; topLevel?: boolean }
  /** A header whose value matches. */
  | { group: string; header: string; value: RegExp };

export interface AccountWideUse {
  /** Which field: `previous_response_id`, `file_id`, `type: "item_reference"`, `header anthropic-beta`. */
  where: string;
  group: string;
}

// Bodies are already depth-limited by the JSON parser; this bounds the walk's work too.
const MAX_NODES = 100_000;

/** The first reference to a group not in `enabled`, or null. */
export function findAccountWideUse(
  refs: readonly AccountWideRef[],
  body: unknown,
  headers: IncomingHttpHeaders,
  enabled: ReadonlySet<string>,
): AccountWideUse | null {
  const active = refs.filter((r) => !enabled.has(r.group));
  if (active.length === 0) return null;
  for (const r of active) {
    if (!('header' in r)) continue;
    const raw = headers[r.header];
    const values = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
    if (values.some((v) => r.value.test(v))) return { where: `header ${r.header}`, group: r.group };
  }
  const bodyRefs = active.filter((r): r is Extract<AccountWideRef, { bodyKey: string }> => 'bodyKey' in r);
  if (bodyRefs.length === 0 || body === undefined) return null;

  // The field is named, not its path: the path's other keys are the client's words.
  const queue: Array<{ node: unknown; depth: number }> = [{ node: body, depth: 0 }];
  for (let i = 0; i < queue.length && i < MAX_NODES; i++) {
    const { node, depth } = queue[i];
    if (Array.isArray(node)) {
      for (const v of node) if (typeof v === 'object' && v !== null) queue.push({ node: v, depth: depth + 1 });
      continue;
    }
    if (!isRecord(node)) continue;
    for (const [k, v] of Object.entries(node)) {
      for (const r of bodyRefs) {
        if (r.bodyKey !== k || v === null || v === undefined) continue;
        if (r.topLevel && depth > 0) continue;
        if (r.equals !== undefined && v !== r.equals) continue;
        return { where: r.equals !== undefined ? `${k}: "${r.equals}"` : k, group: r.group };
      }
      if (typeof v === 'object' && v !== null) queue.push({ node: v, depth: depth + 1 });
    }
  }
  return null;
}

/** Throws 403 naming the field and the switch when the call reaches a group that is off. */
export function refuseAccountWide(
  provider: string,
  refs: readonly AccountWideRef[] | undefined,
  body: unknown,
  headers: IncomingHttpHeaders,
  enabled: ReadonlySet<string>,
): void {
  const use = refs ? findAccountWideUse(refs, body, headers, enabled) : null;
  if (!use) return;
  throw errors.forbidden(
    `The ${use.where.startsWith('header ') ? '' : 'request field '}${use.where} reaches account-wide ${provider} data (${use.group}), which is not enabled on this gateway (an operator can enable it with providers.${provider}.nativeEndpoints: [${use.group}]).`,
    'account_wide_not_enabled',
  );
}

/** The account-wide groups the operator enabled for a provider (`providers.<id>.nativeEndpoints`). */
// Per providers config object (fixed for a gateway's life): built once, not on every request.
const groupsMemo = new WeakMap<object, Map<string, ReadonlySet<string>>>();

export function enabledGroups(providers: object, id: string): ReadonlySet<string> {
  let byId = groupsMemo.get(providers);
  if (!byId) groupsMemo.set(providers, (byId = new Map()));
  let groups = byId.get(id);
  if (!groups) {
    const settings = (providers as Record<string, { nativeEndpoints?: readonly string[] } | undefined>)[id];
    byId.set(id, (groups = new Set(settings?.nativeEndpoints ?? [])));
  }
  return groups;
}
