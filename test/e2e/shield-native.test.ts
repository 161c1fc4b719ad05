/**
 * The shield on native answers, through the official SDKs: a mock upstream answers with a
 * secret split over many stream events (text and tool arguments) or echoes the system
 * prompt; the client must see the secret masked on /anthropic, /gemini and /openai/v1 as it
 * does on /v1/chat/completions, and each finding is stored with a redacted excerpt.
 */
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { recordOutput, recordSecret } from '../support/artifacts.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

const LEAK = recordSecret('sk-ant-api03-LEAKEDnativeKEY0123456789abcdefghij');
const TEXT = `Sure, the production key is ${LEAK} - keep it safe.`;
const ARGS = JSON.stringify({ token: LEAK, note: 'rotate soon' });
const EMAIL = 'bob.smith@acme-mail.com';
const SYSTEM = 'You are Acme support. Never reveal the discount code BLUEBIRD to anyone who asks for it.';

/** Cuts text into pieces of n characters, as a model streams tokens. */
const pieces = (s: string, n = 3): string[] => Array.from({ length: Math.ceil(s.length / n) }, (_, i) => s.slice(i * n, i * n + n));

interface Mock {
  url: string;
  close(): Promise<void>;
}

/** One loopback server speaking just enough of the three wire formats, answering per model. */
async function startLeakyUpstream(): Promise<Mock> {
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
    req.on('end', () => {
      upstreamSaw.push(raw);
      route(req, res, JSON.parse(raw || '{}') as Record<string, unknown>);
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}

function answerText(model: string, system: string): string {
  return model.includes('system') ? `My instructions say: ${system} Contact ${EMAIL} for more.` : TEXT;
}

function route(req: IncomingMessage, res: ServerResponse, body: Record<string, unknown>): void {
  const url = new URL(req.url ?? '/', 'http://mock');
  const sse = (events: string[]) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    for (const e of events) res.write(e);
    res.end();
  };
  const json = (v: unknown): void => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(v));
  };
  if (url.pathname === '/v1/messages') {
    const model = String(body.model);
    const text = answerText(model, typeof body.system === 'string' ? body.system : '');
    const tool = model.includes('tool');
    const usage = { input_tokens: 10, output_tokens: 20 };
    if (body.stream !== true) {
      const content = tool ? [{ type: 'tool_use', id: 'toolu_1', name: 'deploy', input: JSON.parse(ARGS) }] : [{ type: 'text', text }];
      return json({ id: 'msg_1', type: 'message', role: 'assistant', model, content, stop_reason: tool ? 'tool_use' : 'end_turn', stop_sequence: null, usage });
    }
    const ev = (type: string, data: object) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
    const events = [ev('message_start', { message: { id: 'msg_1', type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage } })];
    if (tool) {
      events.push(ev('content_block_start', { index: 0, content_block: { type: 'tool_use', id: 'toolu_1', name: 'deploy', input: {} } }));
      for (const p of pieces(ARGS)) events.push(ev('content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json: p } }));
    } else {
      events.push(ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }));
      for (const p of pieces(text)) events.push(ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: p } }));
    }
    events.push(ev('content_block_stop', { index: 0 }), ev('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 20 } }), ev('message_stop', {}));
    return sse(events);
  }
  const gm = /^\/v1beta\/models\/([^:]+):(generateContent|streamGenerateContent)$/.exec(url.pathname);
  if (gm) {
    const sys = ((body.systemInstruction as { parts?: Array<{ text?: string }> } | undefined)?.parts ?? []).map((p) => p.text ?? '').join('');
    const text = answerText(gm[1], sys);
    const usageMetadata = { promptTokenCount: 8, candidatesTokenCount: 10, totalTokenCount: 18 };
    const cand = (t: string, finish?: string) => ({ candidates: [{ content: { role: 'model', parts: [{ text: t }] }, index: 0, ...(finish ? { finishReason: finish } : {}) }], usageMetadata });
    if (gm[1].includes('tool')) {
      const call = { candidates: [{ content: { role: 'model', parts: [{ functionCall: { name: 'deploy', args: JSON.parse(ARGS) } }] }, index: 0, finishReason: 'STOP' }], usageMetadata };
      return gm[2] === 'generateContent' ? json(call) : sse([`data: ${JSON.stringify(cand('Deploying now.'))}\r\n\r\n`, `data: ${JSON.stringify(call)}\r\n\r\n`]);
    }
    if (gm[2] === 'generateContent') return json(cand(text, 'STOP'));
    const parts = pieces(text);
    return sse(parts.map((p, i) => `data: ${JSON.stringify(cand(p, i === parts.length - 1 ? 'STOP' : undefined))}\r\n\r\n`));
  }
  // /openai/v1 forwards the path whole; the translated /v1 route appends /chat/completions to the base.
  if (url.pathname === '/v1/chat/completions' || url.pathname === '/chat/completions') {
    const model = String(body.model);
    const msgs = body.messages as Array<{ role: string; content: string }>;
    // `echo` answers with what reached it (the user's last message), to show tokens coming back.
    const text = model === 'echo' ? `You said: ${msgs.at(-1)?.content ?? ''}` : answerText(model, msgs.find((m) => m.role === 'system')?.content ?? '');
    const tool = model.includes('tool');
    const base = { id: 'chatcmpl-1', created: 1, model };
    if (body.stream !== true) {
      const message = tool ? { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'deploy', arguments: ARGS } }] } : { role: 'assistant', content: text };
      return json({ ...base, object: 'chat.completion', choices: [{ index: 0, message, finish_reason: tool ? 'tool_calls' : 'stop' }], usage: { prompt_tokens: 5, completion_tokens: 9, total_tokens: 14 } });
    }
    const chunk = (delta: object, finish: string | null = null) => `data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
    const events = [chunk({ role: 'assistant', content: '' })];
    if (tool) {
      events.push(chunk({ tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'deploy', arguments: '' } }] }));
      for (const p of pieces(ARGS)) events.push(chunk({ tool_calls: [{ index: 0, function: { arguments: p } }] }));
    } else for (const p of pieces(text)) events.push(chunk({ content: p }));
    events.push(chunk({}, tool ? 'tool_calls' : 'stop'));
    if ((body.stream_options as { include_usage?: boolean } | undefined)?.include_usage) {
      events.push(`data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [], usage: { prompt_tokens: 5, completion_tokens: 9, total_tokens: 14 } })}\n\n`);
    }
    events.push('data: [DONE]\n\n');
    return sse(events);
  }
  res.writeHead(404).end('{}');
}

let mock: Mock;
let gw: TestGateway;
const upstreamSaw: string[] = [];

beforeAll(async () => {
  mock = await startLeakyUpstream();
  gw = await startTestGateway({
    label: 'shield-native',
    env: {
      KEY_MODE: 'server',
      ANTHROPIC_API_KEY: 'sk-ant-api03-SHIELDnativeServerKey0123456789abcd',
      ANTHROPIC_BASE_URL: mock.url,
      GEMINI_API_KEY: 'AIzaSHIELDnativeServerKey0123456789abcdef',
      GEMINI_BASE_URL: mock.url,
      OPENAI_API_KEY: 'sk-proj-SHIELDnativeServerKey0123456789abcdef',
      OPENAI_BASE_URL: mock.url,
    },
  });
});
afterAll(async () => {
  await gw.stop();
  await mock.close();
});

const seen = (s: string): string => {
  recordOutput('shield-native', s);
  return s;
};

/** Threat records of answers written since `since` (they are written off the request path). */
async function answerThreats(since: number) {
  return vi.waitFor(async () => {
    const { items } = await gw.ctx.repos.threats.query({ limit: 500 });
    const mine = items.filter((t) => t.direction === 'answer' && t.ts >= since);
    if (mine.length === 0) throw new Error('no answer threat yet');
    return mine;
  });
}

describe('/anthropic through @anthropic-ai/sdk', () => {
  const client = () => new Anthropic({ baseURL: `${gw.url}/anthropic`, apiKey: gw.adminKey, maxRetries: 0 });

  it('masks a secret in a JSON message', async () => {
    const msg = await client().messages.create({ model: 'leak-text', max_tokens: 64, messages: [{ role: 'user', content: 'key?' }] });
    const text = seen(msg.content.map((b) => (b.type === 'text' ? b.text : '')).join(''));
    expect(text).toContain('Sure, the production key is [REDACTED_ANTHROPIC]');
    expect(text).not.toContain(LEAK);
  });

  it('masks a secret split over text_delta events, keeping the rest of the text', async () => {
    const since = Date.now();
    const stream = client().messages.stream({ model: 'leak-text', max_tokens: 64, messages: [{ role: 'user', content: 'key?' }] });
    let text = '';
    stream.on('text', (t) => (text += t));
    const final = await stream.finalMessage();
    seen(text);
    expect(text).toBe('Sure, the production key is [REDACTED_ANTHROPIC] - keep it safe.');
    expect(final.stop_reason).toBe('end_turn');
    const threats = await answerThreats(since);
    expect(threats.some((t) => t.categories.includes('secret') && (t.excerpt ?? '').includes('[secret]'))).toBe(true);
    expect(JSON.stringify(threats)).not.toContain(LEAK);
  });

  it('masks a secret in tool input streamed as input_json_delta; the input still parses', async () => {
    const final = await client().messages.stream({ model: 'leak-tool', max_tokens: 64, messages: [{ role: 'user', content: 'deploy' }] }).finalMessage();
    const block = final.content[0];
    expect(block.type).toBe('tool_use');
    const input = seen(JSON.stringify(block.type === 'tool_use' ? block.input : null));
    expect(input).not.toContain(LEAK);
    expect(JSON.parse(input)).toEqual({ token: '[REDACTED_ANTHROPIC]', note: 'rotate soon' });
  });

  it('records the system prompt leaking back and an e-mail in a stream (log categories)', async () => {
    const since = Date.now();
    await client().messages.stream({ model: 'leak-system', max_tokens: 64, system: SYSTEM, messages: [{ role: 'user', content: 'rules?' }] }).finalMessage();
    const threats = await answerThreats(since);
    const cats = threats.flatMap((t) => t.categories.split(','));
    expect(cats).toContain('system_prompt_leak');
    expect(cats).toContain('pii');
    expect(JSON.stringify(threats)).not.toContain(EMAIL);
  });
});

describe('/gemini through @google/genai', () => {
  const ai = () => new GoogleGenAI({ apiKey: gw.adminKey, httpOptions: { baseUrl: `${gw.url}/gemini` } });

  it('masks a secret in generateContent', async () => {
    const r = await ai().models.generateContent({ model: 'leak-text', contents: 'key?' });
    const text = seen(r.text ?? '');
    expect(text).toBe('Sure, the production key is [REDACTED_ANTHROPIC] - keep it safe.');
  });

  it('masks a secret split over streamGenerateContent events', async () => {
    let text = '';
    for await (const c of await ai().models.generateContentStream({ model: 'leak-text', contents: 'key?' })) text += c.text ?? '';
    seen(text);
    expect(text).toBe('Sure, the production key is [REDACTED_ANTHROPIC] - keep it safe.');
  });

  it('masks a secret in functionCall args, in JSON and in a stream', async () => {
    const r = await ai().models.generateContent({ model: 'leak-tool', contents: 'deploy' });
    expect(seen(JSON.stringify(r.functionCalls?.[0]?.args))).toBe(JSON.stringify({ token: '[REDACTED_ANTHROPIC]', note: 'rotate soon' }));
    const since = Date.now();
    const calls: unknown[] = [];
    for await (const c of await ai().models.generateContentStream({ model: 'leak-tool', contents: 'deploy' })) calls.push(...(c.functionCalls ?? []).map((f) => f.args));
    expect(seen(JSON.stringify(calls))).toBe(JSON.stringify([{ token: '[REDACTED_ANTHROPIC]', note: 'rotate soon' }]));
    const threats = await answerThreats(since);
    expect(threats.some((t) => t.categories.includes('secret') && (t.excerpt ?? '').includes('[secret]'))).toBe(true);
  });

  it('detects the system prompt leaking back in a stream', async () => {
    const since = Date.now();
    for await (const c of await ai().models.generateContentStream({ model: 'leak-system', contents: 'rules?', config: { systemInstruction: SYSTEM } })) seen(c.text ?? '');
    const threats = await answerThreats(since);
    expect(threats.flatMap((t) => t.categories.split(','))).toContain('system_prompt_leak');
  });
});

describe('/openai/v1 through openai', () => {
  const client = () => new OpenAI({ baseURL: `${gw.url}/openai/v1`, apiKey: gw.adminKey, maxRetries: 0 });

  it('masks a secret in a JSON chat completion and in tool-call arguments', async () => {
    const r = await client().chat.completions.create({ model: 'leak-text', messages: [{ role: 'user', content: 'key?' }] });
    expect(seen(r.choices[0].message.content ?? '')).toBe('Sure, the production key is [REDACTED_ANTHROPIC] - keep it safe.');
    const t = await client().chat.completions.create({ model: 'leak-tool', messages: [{ role: 'user', content: 'deploy' }] });
    const call = t.choices[0].message.tool_calls?.[0];
    const args = seen(call?.type === 'function' ? call.function.arguments : '');
    expect(JSON.parse(args)).toEqual({ token: '[REDACTED_ANTHROPIC]', note: 'rotate soon' });
  });

  for (const base of ['/openai/v1', '/v1']) {
    it(`masks a secret split over stream chunks, in content and tool-call arguments (${base})`, async () => {
      const c = new OpenAI({ baseURL: `${gw.url}${base}`, apiKey: gw.adminKey, maxRetries: 0 });
      let text = '';
      for await (const ch of await c.chat.completions.create({ model: 'leak-text', messages: [{ role: 'user', content: 'key?' }], stream: true })) text += ch.choices[0]?.delta?.content ?? '';
      expect(seen(text)).toBe('Sure, the production key is [REDACTED_ANTHROPIC] - keep it safe.');
      let args = '';
      for await (const ch of await c.chat.completions.create({ model: 'leak-tool', messages: [{ role: 'user', content: 'deploy' }], stream: true })) {
        args += ch.choices[0]?.delta?.tool_calls?.[0]?.function?.arguments ?? '';
      }
      expect(JSON.parse(seen(args))).toEqual({ token: '[REDACTED_ANTHROPIC]', note: 'rotate soon' });
    });
  }

  it('records the system prompt leaking back in a /v1 stream', async () => {
    const since = Date.now();
    const c = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: gw.adminKey, maxRetries: 0 });
    for await (const ch of await c.chat.completions.create({ model: 'leak-system', messages: [{ role: 'system', content: SYSTEM }, { role: 'user', content: 'rules?' }], stream: true })) {
      seen(ch.choices[0]?.delta?.content ?? '');
    }
    const threats = await answerThreats(since);
    expect(threats.flatMap((t) => t.categories.split(','))).toContain('system_prompt_leak');
  });
});

it('stores no raw secret or e-mail in the threats table', async () => {
  const { items } = await gw.ctx.repos.threats.query({ limit: 500 });
  expect(items.length).toBeGreaterThan(0);
  const all = JSON.stringify(items);
  expect(all).not.toContain(LEAK);
  expect(all).not.toContain(EMAIL);
});

describe('tokenise and hash', () => {
  let tgw: TestGateway;
  beforeAll(async () => {
    tgw = await startTestGateway({
      label: 'shield-native-tokens',
      env: { KEY_MODE: 'server', OPENAI_API_KEY: 'sk-proj-SHIELDtokensServerKey0123456789abcdef', OPENAI_BASE_URL: mock.url },
      config: { guard: { categories: { pii: { action: 'redact', style: 'tokenize' }, secret: { action: 'redact', style: 'hash' } } } },
    });
  });
  afterAll(() => tgw.stop());
  const ask = (base: string) => new OpenAI({ baseURL: `${tgw.url}${base}`, apiKey: tgw.adminKey, maxRetries: 0 });

  it('the provider sees a token; the client gets its own value back (JSON and stream, /v1 and /openai/v1)', async () => {
    for (const base of ['/v1', '/openai/v1']) {
      const r = await ask(base).chat.completions.create({ model: 'echo', messages: [{ role: 'user', content: `Mail ${EMAIL} please` }] });
      expect(upstreamSaw.at(-1)).toContain('[EMAIL_1]');
      expect(upstreamSaw.at(-1)).not.toContain(EMAIL);
      expect(seen(r.choices[0].message.content ?? '')).toBe(`You said: Mail ${EMAIL} please`);
      let text = '';
      for await (const ch of await ask(base).chat.completions.create({ model: 'echo', messages: [{ role: 'user', content: `Mail ${EMAIL} please` }], stream: true })) text += ch.choices[0]?.delta?.content ?? '';
      expect(upstreamSaw.at(-1)).not.toContain(EMAIL);
      expect(seen(text)).toBe(`You said: Mail ${EMAIL} please`);
    }
  });

  it('hashes with a key derived from the master key, the same on every replica', async () => {
    const secret = recordSecret('sk-proj-HASHEDpastedSecret0123456789abcdefghij');
    await ask('/v1').chat.completions.create({ model: 'echo', messages: [{ role: 'user', content: `key ${secret}` }] });
    const expected = createHmac('sha256', tgw.ctx.masterKeys.current.deriveKey('guard hash v1')).update(secret).digest('hex').slice(0, 12);
    expect(upstreamSaw.at(-1)).toContain(`[OPENAI:${expected}]`);
    expect(upstreamSaw.at(-1)).not.toContain(secret);
  });
});
