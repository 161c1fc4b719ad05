import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString('utf8').split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { lines, logger: createLogger({ level: 'info', destination }) };
}

const KEY = 'sk-proj-abcdefghijklmnopqrstuvwxyz0123456789';

describe('logger', () => {
  it('logs an error as its type, code and masked message (and does not throw)', () => {
    const { lines, logger } = capture();
    const err = Object.assign(new Error(`upstream said: invalid key ${KEY}`), { code: 'ECONNRESET' });
    expect(() => logger.error({ err }, 'unhandled error')).not.toThrow();
    expect(lines[0].err).toEqual({ type: 'Error', code: 'ECONNRESET', message: 'upstream said: invalid key sk-...6789' });
    expect(JSON.stringify(lines)).not.toContain(KEY);
  });

  it('censors credential-named fields at any depth, and masks key-shaped strings anywhere', () => {
    const { lines, logger } = capture();
    logger.info({ apiKey: 'plain-top', headers: { Authorization: 'Bearer x', 'x-goog-api-key': 'g' }, a: { b: { c: { password: 'hunter2', token: 't' } } }, list: [{ note: `see ${KEY}` }] }, `message with ${KEY}`);
    const text = JSON.stringify(lines);
    for (const secret of ['plain-top', 'Bearer x', '"g"', 'hunter2', '"t"', KEY]) expect(text).not.toContain(secret);
    expect(lines[0]).toMatchObject({ apiKey: '[redacted]', headers: { Authorization: '[redacted]' }, a: { b: { c: { password: '[redacted]' } } }, list: [{ note: 'see sk-...6789' }], msg: 'message with sk-...6789' });
  });

  it('survives cycles', () => {
    const { lines, logger } = capture();
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    expect(() => logger.child({ component: 'x' }).info({ cyclic }, 'cycle')).not.toThrow();
    expect(lines[0]).toMatchObject({ component: 'x', cyclic: { name: 'loop', self: { name: 'loop' } } });
  });
});
