import { describe, expect, it } from 'vitest';
import { anthropicNativeEndpoints } from '../anthropic/native-endpoints.js';
import { geminiNativeEndpoints } from '../gemini/native-endpoints.js';
import { openaiNativeEndpoints } from '../openai/native-endpoints.js';
import { compileEndpoints, matchEndpoint, refusePathShape } from './endpoint-whitelist.js';

const anthropic = compileEndpoints(anthropicNativeEndpoints);
const gemini = compileEndpoints(geminiNativeEndpoints);
const openai = compileEndpoints(openaiNativeEndpoints);

describe('refusePathShape', () => {
  it.each([
    '/v1/messages/../files',
    '/v1//messages',
    '/v1/%2e%2e/files',
    '/v1/%2E%2E/files',
    '/v1/messages%2fbatches',
    '/v1/messages%2Fbatches',
    '/v1/messages%5cbatches',
    '/v1\\messages',
    '/v1/./messages',
    '/v1/messages\u0000',
    '/v1/messages%00',
    '/v1/mess\tages',
    '/v1beta/models/x:generateContent?key=AIzaSyABCDEF',
    '/v1beta/models/x:generateContent?alt=sse&KEY=abc',
    '/v1beta/models/x:generateContent?api_key=abc',
    '/v1/messages#frag',
  ])('refuses %j', (raw) => {
    expect(refusePathShape(raw)).not.toBeNull();
  });

  it('accepts plain paths', () => {
    expect(refusePathShape('/v1/messages')).toBeNull();
    expect(refusePathShape('/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse')).toBeNull();
  });
});

describe('matchEndpoint', () => {
  it('matches exact paths and methods', () => {
    const m = matchEndpoint(anthropic, 'POST', '/v1/messages');
    expect(m.kind).toBe('match');
    if (m.kind === 'match') expect(m.endpoint.name).toBe('messages');
  });

  it('never matches by prefix: /v1/messages/batches is its own (grouped) endpoint', () => {
    const m = matchEndpoint(anthropic, 'POST', '/v1/messages/batches');
    expect(m.kind).toBe('match');
    if (m.kind === 'match') expect(m.endpoint.group).toBe('batches');
    expect(matchEndpoint(anthropic, 'POST', '/v1/messages/other').kind).toBe('not_found');
    expect(matchEndpoint(anthropic, 'POST', '/v1/messagesx').kind).toBe('not_found');
    expect(matchEndpoint(anthropic, 'POST', '/v1/messages/').kind).toBe('not_found');
    expect(matchEndpoint(anthropic, 'POST', '/V1/Messages').kind).toBe('not_found');
  });

  it('answers method_not_allowed for a known path with another method', () => {
    const m = matchEndpoint(anthropic, 'GET', '/v1/messages');
    expect(m).toEqual({ kind: 'method_not_allowed', allow: ['POST'] });
    expect(matchEndpoint(anthropic, 'DELETE', '/v1/messages').kind).toBe('method_not_allowed');
  });

  it('types the model parameter strictly', () => {
    const m = matchEndpoint(gemini, 'POST', '/v1beta/models/gemini-2.5-flash:generateContent');
    expect(m.kind).toBe('match');
    if (m.kind === 'match') expect(m.params.model).toBe('gemini-2.5-flash');
    expect(matchEndpoint(gemini, 'POST', '/v1beta/models/a:b:generateContent').kind).toBe('not_found');
    expect(matchEndpoint(gemini, 'POST', '/v1beta/models/x/y:generateContent').kind).toBe('not_found');
    expect(matchEndpoint(gemini, 'POST', '/v1beta/models/:generateContent').kind).toBe('not_found');
    expect(matchEndpoint(gemini, 'POST', '/v1beta/models/-x:generateContent').kind).toBe('not_found');
    expect(matchEndpoint(gemini, 'POST', '/v1beta/models/x:deleteEverything').kind).toBe('not_found');
  });

  it('allows only declared query parameters and values, and rebuilds the query', () => {
    const ok = matchEndpoint(gemini, 'POST', '/v1beta/models/g:streamGenerateContent?alt=sse');
    expect(ok.kind === 'match' && ok.query).toBe('?alt=sse');
    expect(matchEndpoint(gemini, 'POST', '/v1beta/models/g:streamGenerateContent?alt=json').kind).toBe('refused');
    expect(matchEndpoint(gemini, 'POST', '/v1beta/models/g:streamGenerateContent?alt=sse&alt=sse').kind).toBe('refused');
    expect(matchEndpoint(gemini, 'POST', '/v1beta/models/g:generateContent?alt=sse').kind).toBe('refused');
    expect(matchEndpoint(openai, 'POST', '/v1/chat/completions?x=1').kind).toBe('refused');
    expect(matchEndpoint(openai, 'GET', '/v1/files?limit=10').kind).toBe('match');
    expect(matchEndpoint(openai, 'GET', '/v1/files?limit=ten').kind).toBe('refused');
  });

  it('refuses bad shapes before matching', () => {
    expect(matchEndpoint(anthropic, 'POST', '/v1/messages/../messages').kind).toBe('refused');
    expect(matchEndpoint(openai, 'POST', '/v1/chat/completions/.').kind).toBe('refused');
  });
});
