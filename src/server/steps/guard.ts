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
  evaluate,
  policyViolation,
  scanAnswer,
  scanRequest,
  systemPromptOf,
  type Decision,
  type Finding,
  type GuardPolicy,
  type StreamRedactor,
} from '../../guard/index.js';
import type { GatewayContext } from '../context.js';

/** Applied to one upstream answer (see forward.ts). */
export interface AnswerGuard {
  /** A whole answer: the redacted answer to send, null when unchanged; throws to block. */
  json(answer: ChatCompletion): ChatCompletion | null;
  /** A new per-stream transformer of chunks. */
  stream(): ChunkGuard;
}

export interface ChunkGuard {
  chunk(c: ChatCompletionChunk): ChatCompletionChunk[];
  end(): ChatCompletionChunk[];
}

/** The policy for this caller: key, then app, then route, then the default. */
export function policyFor(ctx: GatewayContext, req: FastifyRequest): GuardPolicy {
  const p = req.principal;
  const o = ctx.guardPolicies;
  return (p?.keyId && o.keys.get(p.keyId)) || (p?.name && o.keys.get(p.name)) || (p?.appId && o.apps.get(p.appId)) || o.routes.get(req.routeOptions.url ?? '') || o.default;
}

/** Scans the prompt; returns the body to forward (redacted when the policy says so). */
export function guardRequest<B extends object = ChatCompletionRequest>(ctx: GatewayContext, req: FastifyRequest, body: B, policy: GuardPolicy, format: 'openai' | 'anthropic' | 'gemini' = 'openai'): B {
  if (!policy.enabled) return body;
  const scan = scanRequest(body, { format, policy });
  if (scan.findings.length === 0) return body;
  const decision = evaluate(scan.findings, policy);
  if (decision.action === 'allow') return body;
  recordThreat(ctx, req, 'request', decision, format === 'openai' ? textOf(body as unknown as ChatCompletionRequest) : '', scan.findings);
  if (decision.action === 'block') throw policyViolation(decision.blockedBy!);
  if (decision.redactions.length === 0) return body;
  return applyRedactions(body, decision.redactions).body;
}

export function makeAnswerGuard(ctx: GatewayContext, req: FastifyRequest, policy: GuardPolicy, request: ChatCompletionRequest): AnswerGuard | null {
  if (!policy.enabled) return null;
  return {
    json(answer) {
      // Only a whole answer is checked for the system prompt leaking back: extract it here,
      // not on every request.
      const scan = scanAnswer(answer, { format: 'openai', policy, systemPrompt: systemPromptOf(request) });
      if (scan.findings.length === 0) return null;
      const decision = evaluate(scan.findings, policy);
      if (decision.action === 'allow') return null;
      recordThreat(ctx, req, 'answer', decision, answer.choices.map((c) => c.message.content ?? '').join('\n'), scan.findings);
      if (decision.action === 'block') throw policyViolation(decision.blockedBy!);
      return decision.redactions.length ? applyRedactions(answer, decision.redactions).body : null;
    },
    stream() {
      return new StreamGuard(ctx, req, policy);
    },
  };
}

/** One redactor per choice; held-back text is released before that choice's finish chunk. */
class StreamGuard implements ChunkGuard {
  readonly #redactors = new Map<number, StreamRedactor>();
  #last: ChatCompletionChunk | null = null;

  constructor(
    private readonly ctx: GatewayContext,
    private readonly req: FastifyRequest,
    private readonly policy: GuardPolicy,
  ) {}

  #redactor(index: number): StreamRedactor {
    let r = this.#redactors.get(index);
    if (!r) {
      r = createStreamRedactor(this.policy, { path: `choices[${index}].delta.content` });
      this.#redactors.set(index, r);
    }
    return r;
  }

  chunk(c: ChatCompletionChunk): ChatCompletionChunk[] {
    this.#last = c;
    const out: ChatCompletionChunk[] = [];
    for (const choice of c.choices) {
      const content = choice.delta?.content;
      if (typeof content === 'string' && content.length > 0) choice.delta.content = this.#redactor(choice.index).push(content);
      if (choice.finish_reason) {
        const held = this.#flush(choice.index);
        if (held) out.push(contentChunk(c, choice.index, held));
      }
    }
    out.push(c);
    return out;
  }

  end(): ChatCompletionChunk[] {
    const out: ChatCompletionChunk[] = [];
    for (const index of [...this.#redactors.keys()]) {
      const held = this.#flush(index);
      if (held && this.#last) out.push(contentChunk(this.#last, index, held));
    }
    const findings = [...this.#redactors.values()].flatMap((r) => r.findings);
    if (findings.length > 0) {
      const decision = evaluate(findings, this.policy);
      // Mid-stream, blocking is no longer possible: what would block is redacted and logged.
      if (decision.action !== 'allow') recordThreat(this.ctx, this.req, 'answer', { ...decision, action: decision.action === 'block' ? 'redact' : decision.action }, '', findings);
    }
    return out;
  }

  #flush(index: number): string {
    const r = this.#redactors.get(index);
    if (!r) return '';
    const held = r.flush();
    return held;
  }
}

function contentChunk(like: ChatCompletionChunk, index: number, content: string): ChatCompletionChunk {
  return { id: like.id, object: 'chat.completion.chunk', created: like.created, model: like.model, choices: [{ index, delta: { content }, finish_reason: null }] };
}

function textOf(body: ChatCompletionRequest): string {
  const last = body.messages[body.messages.length - 1];
  if (!last) return '';
  if (typeof last.content === 'string') return last.content;
  if (Array.isArray(last.content)) return last.content.map((p) => (typeof (p as { text?: unknown }).text === 'string' ? (p as { text: string }).text : '')).join(' ');
  return '';
}

function recordThreat(ctx: GatewayContext, req: FastifyRequest, direction: 'request' | 'answer', decision: Decision, text: string, findings: readonly Finding[]): void {
  const categories = [...new Set(findings.map((f) => f.category))];
  const excerpt = text ? auditExcerpt(text, findings) : null;
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
