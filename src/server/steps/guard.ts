/**
 * The shield on the request path. Prompts are scanned before anything is reserved or sent:
 * a blocked request never reaches the provider and costs nothing. Answers are scanned before
 * they reach the client: whole JSON answers, and streams delta by delta (holding back only
 * as many characters as a pattern can span). Findings go to the threats table (redacted
 * excerpts only) and to the event bus (audit, and a webhook when something is blocked).
 */
import type { FastifyRequest } from 'fastify';
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionRequest } from '../../core/openai-types.js';
import {
  applyRedactions,
  auditExcerpt,
  createStreamRedactor,
  customPatternsOf,
  detectPromptLeak,
  detokenize,
  evaluate,
  extractAnswerParts,
  fingerprintPrompt,
  policyViolation,
  scanAnswer,
  scanRequest,
  scanText,
  systemPromptOf,
  type Decision,
  type Finding,
  type GuardPolicy,
  type PromptFingerprint,
  type RedactOptions,
  type StreamRedactor,
  type TextPart,
  type WireFormat,
} from '../../guard/index.js';
import { streamRedactions } from '../../guard/policy.js';
import { routeOperation } from '../../guard/policy-book.js';
import { parsePath, setAt } from '../../guard/path.js';
import type { MasterKey } from '../../crypto/master-key.js';
import type { GatewayContext } from '../context.js';

/**
 * What one exchange (a request and its answer) shares: the token table of the `tokenize`
 * style (so the client gets its own values back in the answer; the provider only ever sees
 * the tokens), and the system prompt, extracted once with the request's parts.
 */
interface Exchange {
  tokens: Map<string, string>;
  systemPrompt?: string;
}
const exchanges = new WeakMap<FastifyRequest, Exchange>();
function exchangeOf(req: FastifyRequest): Exchange {
  let x = exchanges.get(req);
  if (!x) exchanges.set(req, (x = { tokens: new Map() }));
  return x;
}

// The `hash` style's key comes from the master key (HKDF), so every replica hashes a value
// alike (and no hash can be recomputed without the master key); it changes when that key rotates.
const hashKeys = new WeakMap<MasterKey, Buffer>();
function hashKeyOf(ctx: GatewayContext): Buffer {
  const mk = ctx.masterKeys.current;
  let k = hashKeys.get(mk);
  if (!k) hashKeys.set(mk, (k = mk.deriveKey('guard hash v1')));
  return k;
}

function redactOptions(ctx: GatewayContext, tokens: Map<string, string>): RedactOptions {
  return { hashKey: hashKeyOf(ctx), tokens };
}

/** The answer with the request's tokens put back in every text part; null when none occurs. */
function detokenizeAnswer<T>(answer: T, format: WireFormat, tokens: ReadonlyMap<string, string>): T | null {
  if (tokens.size === 0) return null;
  if (typeof answer === 'string') {
    const d = detokenize(answer, tokens);
    return d === answer ? null : (d as T);
  }
  let copy: T | null = null;
  for (const part of extractAnswerParts(answer, format)) {
    const d = detokenize(part.text, tokens);
    if (d === part.text) continue;
    copy ??= structuredClone(answer);
    setAt(copy, parsePath(part.path), d);
  }
  return copy;
}

/** Applied to one upstream answer (see forward.ts). */
export interface AnswerGuard {
  /** A whole answer: the redacted answer to send, null when unchanged; throws to block. */
  json(answer: ChatCompletion): ChatCompletion | null;
  /** A new per-stream transformer of chunks. */
  stream(): ChunkGuard;
}

export interface ChunkGuard {
  /** The chunks to send for `c`, in order (redacted in place; held text released before it). */
  chunk(c: ChatCompletionChunk): ChatCompletionChunk[];
  /**
   * As chunk(), but null when `c` goes out exactly as it came (no text changed, held or
   * released): the caller may then forward the upstream's own bytes of the event.
   */
  screen(c: ChatCompletionChunk): ChatCompletionChunk[] | null;
  end(): ChatCompletionChunk[];
}

/**
 * The policy for this caller: the default with the overrides of the call's route operation,
 * its app and its key merged over it (src/guard/policy-book.ts). `operations` name what the
 * call does, most specific first; by default they come from the OpenAI route that matched.
 */
export function policyFor(ctx: GatewayContext, req: FastifyRequest, operations: readonly string[] = [routeOperation(req.routeOptions.url ?? '')]): GuardPolicy {
  const p = req.principal;
  return ctx.guardPolicies.resolve({ keyId: p?.keyId, appId: p?.appId, operations });
}

/** Scans the prompt; returns the body to forward (redacted when the policy says so). */
export function guardRequest<B extends object = ChatCompletionRequest>(ctx: GatewayContext, req: FastifyRequest, body: B, policy: GuardPolicy, format: WireFormat = 'openai'): B {
  if (!policy.enabled) return body;
  const scan = scanRequest(body, { format, policy });
  const exchange = exchangeOf(req);
  // The system prompt for leak detection on the answer, from the parts extracted here.
  if (policy.categories.system_prompt_leak.action !== 'allow') exchange.systemPrompt = scan.parts.filter((p) => p.source === 'system').map((p) => p.text).join('\n');
  if (scan.findings.length === 0) return body;
  const decision = evaluate(scan.findings, policy);
  if (decision.action === 'allow') return body;
  recordThreat(ctx, req, 'request', decision, scan.findings, partText(scan.parts));
  if (decision.action === 'block') throw policyViolation(decision.blockedBy!);
  if (decision.redactions.length === 0) return body;
  return applyRedactions(body, decision.redactions, redactOptions(ctx, exchange.tokens)).body;
}

/**
 * Screens one whole answer in any wire format: returns the redacted answer, or null when it
 * goes out unchanged; throws a policy violation to block. `leak` gives the system prompt.
 */
export function guardAnswer<T>(ctx: GatewayContext, req: FastifyRequest, policy: GuardPolicy, answer: T, format: WireFormat, leak: () => PromptFingerprint | null): T | null {
  if (!policy.enabled) return null;
  const scan = scanAnswer(answer, { format, policy, systemPrompt: leak() ?? undefined });
  const requestTokens = exchangeOf(req).tokens;
  let out: T | null = null;
  if (scan.findings.length > 0) {
    const decision = evaluate(scan.findings, policy);
    if (decision.action !== 'allow') {
      recordThreat(ctx, req, 'answer', decision, scan.findings, partText(scan.parts));
      if (decision.action === 'block') throw policyViolation(decision.blockedBy!);
      // The answer's own tokens continue the request's numbering; only the request's come back.
      if (decision.redactions.length) out = applyRedactions(answer, decision.redactions, redactOptions(ctx, new Map(requestTokens))).body;
    }
  }
  return detokenizeAnswer(out ?? answer, format, requestTokens) ?? out;
}

/**
 * The request's system prompt as a fingerprint, computed once and only when the policy looks
 * for it leaking back (extracting a whole body is not free).
 */
export function leakFingerprint(policy: GuardPolicy, request: unknown, format: WireFormat, req?: FastifyRequest): () => PromptFingerprint | null {
  let fp: PromptFingerprint | null | undefined;
  return () => {
    if (fp !== undefined) return fp;
    if (policy.categories.system_prompt_leak.action === 'allow') return (fp = null);
    // Already extracted with the request's parts when it was screened.
    const sys = (req && exchanges.get(req)?.systemPrompt) ?? systemPromptOf(request, format);
    return (fp = sys ? fingerprintPrompt(sys) : null);
  };
}

export function makeAnswerGuard(ctx: GatewayContext, req: FastifyRequest, policy: GuardPolicy, request: ChatCompletionRequest): AnswerGuard | null {
  if (!policy.enabled) return null;
  const leak = leakFingerprint(policy, request, 'openai', req);
  return {
    json: (answer) => guardAnswer(ctx, req, policy, answer, 'openai', leak),
    stream: () => new OpenAIChunkGuard(new AnswerStream(ctx, req, policy, leak)),
  };
}

// A stream's text is kept for the end-of-stream checks (log-only categories, the system
// prompt leaking back) up to this many characters per channel.
const MAX_KEPT = 1 << 20;
// A token is `[KIND_n]`: a `[` this close to the end may be one cut by a delta.
const MAX_TOKEN_CHARS = 48;

interface Channel {
  redactor: StreamRedactor;
  /** Redacted text not yet sent because it ends in what may be the start of a token. */
  pending: string;
  path: string;
  text: string;
  /** Text read by a person (checked for the system prompt), not tool arguments. */
  prose: boolean;
}

/**
 * The streamed answer of one call, in any wire format: one redactor per channel (a choice's
 * text, a tool call's arguments, a content block), each holding back only what a pattern can
 * span. At the end, the whole text of each channel is scanned once more for what a redactor
 * cannot act on mid-stream (categories set to `log`, the system prompt leaking back), and one
 * threat record is written with an excerpt from the channel's own text.
 */
export class AnswerStream {
  readonly #channels = new Map<string, Channel>();
  readonly #tokens: ReadonlyMap<string, string>;
  // Findings in pieces that arrive whole (screenWhole), with their text for the excerpt.
  readonly #wholeFindings: Finding[] = [];
  readonly #wholeTexts = new Map<string, string>();
  #ended = false;

  constructor(
    private readonly ctx: GatewayContext,
    private readonly req: FastifyRequest,
    private readonly policy: GuardPolicy,
    private readonly leak: () => PromptFingerprint | null,
  ) {
    this.#tokens = exchangeOf(req).tokens;
  }

  /** Feeds a delta of one channel; returns what may go out now. */
  push(channel: string, path: string, delta: string, prose = true): string {
    let c = this.#channels.get(channel);
    if (!c) {
      c = { redactor: createStreamRedactor(this.policy, { path, ...redactOptions(this.ctx, new Map(this.#tokens)) }), pending: '', path, text: '', prose };
      this.#channels.set(channel, c);
    }
    if (c.text.length < MAX_KEPT) c.text += delta;
    return this.#detokenize(c, c.redactor.push(delta), false);
  }

  /** Everything a channel still holds, redacted ('' when nothing). */
  flush(channel: string): string {
    const c = this.#channels.get(channel);
    return c ? this.#detokenize(c, c.redactor.flush(), true) : '';
  }

  /** Puts the request's tokens back; a `[` that may begin a token split by a delta waits. */
  #detokenize(c: Channel, out: string, final: boolean): string {
    if (this.#tokens.size === 0) return out;
    let text = c.pending + out;
    c.pending = '';
    if (!final) {
      const open = text.lastIndexOf('[');
      if (open !== -1 && text.indexOf(']', open) === -1 && text.length - open <= MAX_TOKEN_CHARS) {
        c.pending = text.slice(open);
        text = text.slice(0, open);
      }
    }
    return detokenize(text, this.#tokens);
  }

  /**
   * A piece of the answer that arrives whole in one event (a Gemini functionCall with its
   * args): screened at once, redacted in its own shape; `block` redacts, as in any stream.
   * Its findings join the stream's threat record at the end.
   */
  screenWhole<T>(piece: T, format: WireFormat): T {
    if (!this.policy.enabled) return piece;
    const scan = scanAnswer(piece, { format, policy: this.policy });
    if (scan.findings.length === 0) return piece;
    for (const p of scan.parts) this.#wholeTexts.set(p.path, p.text);
    this.#wholeFindings.push(...scan.findings);
    const redactions = streamRedactions(scan.findings, this.policy);
    return redactions.length ? applyRedactions(piece, redactions, redactOptions(this.ctx, new Map(this.#tokens))).body : piece;
  }

  /** Channels (all, or those `which` picks) that still hold text, with what they hold. */
  flushAll(which: (channel: string) => boolean = () => true): Array<[string, string]> {
    const out: Array<[string, string]> = [];
    for (const key of this.#channels.keys()) {
      if (!which(key)) continue;
      const held = this.flush(key);
      if (held) out.push([key, held]);
    }
    return out;
  }

  /** Whether end() ran: the stream is over, nothing more is held or recorded. */
  get ended(): boolean {
    return this.#ended;
  }

  /** End of stream: records what was found (once). Call after flushing. */
  end(): void {
    if (this.#ended || !this.policy.enabled) return;
    this.#ended = true;
    const findings: Finding[] = [];
    const texts = new Map<string, string>();
    const fp = this.leak();
    const customPatterns = customPatternsOf(this.policy);
    findings.push(...this.#wholeFindings);
    for (const [path, text] of this.#wholeTexts) texts.set(path, text);
    for (const c of this.#channels.values()) {
      texts.set(c.path, c.text);
      findings.push(...c.redactor.findings);
      // Redactors only look for what they may redact; `log` categories are found here.
      const more = scanText(c.text, { path: c.path, source: 'assistant', direction: 'answer', customPatterns, exfil: { allowedHosts: this.policy.allowedLinkHosts } });
      findings.push(...more.filter((f) => this.policy.categories[f.category].action === 'log'));
      if (fp && c.prose) findings.push(...detectPromptLeak(c.text, fp, c.path));
    }
    if (findings.length === 0) return;
    const decision = evaluate(findings, this.policy);
    // Mid-stream, blocking is no longer possible: what would block is redacted and logged.
    if (decision.action !== 'allow') recordThreat(this.ctx, this.req, 'answer', { ...decision, action: decision.action === 'block' ? 'redact' : decision.action }, findings, (p) => texts.get(p));
  }
}

/** OpenAI chat chunks: a channel per choice's text and per tool call's arguments. */
export class OpenAIChunkGuard implements ChunkGuard {
  #last: ChatCompletionChunk | null = null;
  // A choice's channel key and content path, built once per choice, not once per delta.
  readonly #contentKeys = new Map<unknown, [string, string]>();

  constructor(private readonly s: AnswerStream) {}

  chunk(c: ChatCompletionChunk): ChatCompletionChunk[] {
    return this.screen(c) ?? [c];
  }

  screen(c: ChatCompletionChunk): ChatCompletionChunk[] | null {
    this.#last = c;
    let held: ChatCompletionChunk[] | null = null;
    let changed = false;
    for (const choice of c.choices ?? []) {
      const delta = choice.delta;
      const content = delta?.content;
      if (typeof content === 'string' && content.length > 0) {
        const [key, path] = this.#contentKey(choice.index);
        const out = this.s.push(key, path, content);
        if (out !== content) {
          delta.content = out;
          changed = true;
        }
      }
      for (const tc of delta?.tool_calls ?? []) {
        const args = tc.function?.arguments;
        if (typeof args === 'string' && args.length > 0 && tc.function) {
          const out = this.s.push(`${choice.index}.${tc.index}`, `choices[${choice.index}].delta.tool_calls[${tc.index}].function.arguments`, args, false);
          if (out !== args) {
            tc.function.arguments = out;
            changed = true;
          }
        }
      }
      if (choice.finish_reason) {
        const released = this.#flushChoice(c, choice.index);
        if (released.length) (held ??= []).push(...released);
      }
    }
    if (!held && !changed) return null;
    return [...(held ?? []), c];
  }

  #contentKey(index: unknown): [string, string] {
    let k = this.#contentKeys.get(index);
    if (!k) this.#contentKeys.set(index, (k = [`${index}`, `choices[${index}].delta.content`]));
    return k;
  }

  /** Releases what is still held and records the stream's findings; a second call returns nothing. */
  end(): ChatCompletionChunk[] {
    if (this.s.ended) return [];
    const out: ChatCompletionChunk[] = [];
    if (this.#last) for (const [key, held] of this.s.flushAll()) out.push(heldChunk(this.#last, key, held));
    this.s.end();
    return out;
  }

  #flushChoice(like: ChatCompletionChunk, index: number): ChatCompletionChunk[] {
    const mine = (key: string) => key === `${index}` || key.startsWith(`${index}.`);
    return this.s.flushAll(mine).map(([key, held]) => heldChunk(like, key, held));
  }
}

/** A chunk carrying text a channel held back: `<choice>` is content, `<choice>.<tool>` arguments. */
function heldChunk(like: ChatCompletionChunk, key: string, text: string): ChatCompletionChunk {
  const [choice, tool] = key.split('.').map(Number);
  const delta: ChatCompletionChunk['choices'][number]['delta'] = tool === undefined ? { content: text } : { tool_calls: [{ index: tool, function: { arguments: text } }] };
  return { id: like.id, object: 'chat.completion.chunk', created: like.created, model: like.model, choices: [{ index: choice, delta, finish_reason: null }] };
}

/** Looks up a part's original text by its path, for audit excerpts. */
function partText(parts: readonly TextPart[]): (path: string) => string | undefined {
  const byPath = new Map(parts.map((p) => [p.path, p.text]));
  return (path) => byPath.get(path);
}

/**
 * The excerpt comes from the text part the first finding sits in, masking only the findings
 * of that same part (offsets are relative to their own part).
 */
function excerptFor(findings: readonly Finding[], textAt: (path: string) => string | undefined): string | null {
  for (const f of findings) {
    const text = textAt(f.span.path);
    if (text === undefined) continue;
    return auditExcerpt(text, findings.filter((g) => g.span.path === f.span.path));
  }
  return null;
}

export function recordThreat(ctx: GatewayContext, req: FastifyRequest, direction: 'request' | 'answer', decision: Decision, findings: readonly Finding[], textAt: (path: string) => string | undefined): void {
  const categories = [...new Set(findings.map((f) => f.category))];
  const excerpt = excerptFor(findings, textAt);
  ctx.repos.threats
    .insert({
      ts: Date.now(),
      request_id: String(req.id),
      key_id: req.principal?.keyId ?? null,
      client_id: req.principal?.clientId ?? null,
      direction,
      categories: categories.join(','),
      risk: Math.round(decision.risk),
      action: decision.action,
      excerpt,
      findings: JSON.stringify(findings.map((f) => ({ category: f.category, detector: f.detector, score: f.score, path: f.span.path }))),
    })
    .catch((err: unknown) => ctx.logger.error({ err }, 'threat record could not be written'));
  for (const c of categories) ctx.metrics.threat(c, decision.action);
  ctx.events.emit({
    type: decision.action === 'block' ? 'threat.blocked' : 'threat.detected',
    actor: req.principal?.keyId ?? 'anonymous',
    clientId: req.principal?.clientId,
    target: direction,
    outcome: decision.action === 'block' ? 'denied' : 'success',
    address: req.clientIp,
    requestId: String(req.id),
    details: { categories, risk: Math.round(decision.risk), action: decision.action, blockedBy: decision.blockedBy ?? null },
  });
}
