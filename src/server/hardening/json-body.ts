/**
 * The JSON body parser: refuses nesting deeper than the configured limit before parsing
 * (a linear scan of the raw text), so a deeply nested body cannot exhaust the stack of any
 * code that walks it later.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { errors } from '../../core/errors.js';

/** Opening brackets in the text, counted with native searches: a body with no more of them than the limit cannot nest deeper. */
function fewBrackets(text: string, max: number): boolean {
  let n = 0;
  for (const ch of ['{', '[']) {
    for (let i = text.indexOf(ch); i !== -1; i = text.indexOf(ch, i + 1)) if (++n > max) return false;
  }
  return true;
}

export function jsonDepthExceeds(text: string, maxDepth: number): boolean {
  // Most bodies (a chat request has a handful of brackets) skip the character loop below.
  if (fewBrackets(text, maxDepth)) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
      continue;
    }
    if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      if (++depth > maxDepth) return true;
    } else if (c === 125 || c === 93) depth--;
  }
  return false;
}

const PROTO = new Error('__proto__');
function refuseProto(key: string, value: unknown): unknown {
  if (key === '__proto__') throw PROTO;
  return value;
}

// The parsed body's size in bytes, per request: a chunked body has no content-length, and the
// token estimate of the limits step must not come out 0 for it.
const bodySizes = new WeakMap<FastifyRequest, number>();

/** Bytes of the request's JSON body as received (content-length only for bodies this parser did not read). */
export function requestBodyBytes(req: FastifyRequest): number {
  return bodySizes.get(req) ?? (Number(req.headers['content-length'] ?? 0) || 0);
}

export function installJsonParser(app: FastifyInstance, maxDepth: number): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req: FastifyRequest, body: string | Buffer, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    bodySizes.set(req, typeof body === 'string' ? Buffer.byteLength(body) : body.length);
    if (text.length === 0) return done(errors.badJson(), undefined);
    if (jsonDepthExceeds(text, maxDepth)) return done(errors.invalidBody(`The JSON body is nested deeper than ${maxDepth} levels.`), undefined);
    try {
      // `__proto__` keys are refused, as Fastify's own parser does; the reviver only runs
      // for the rare body that contains the word.
      done(null, text.includes('__proto__') ? JSON.parse(text, refuseProto) : JSON.parse(text));
    } catch (err) {
      done(err === PROTO ? errors.invalidBody('The JSON body must not contain a "__proto__" key.') : errors.badJson(), undefined);
    }
  });
}
