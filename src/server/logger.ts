/**
 * The gateway's logger: pino, JSON lines. Secrets are masked twice over: known header and
 * field paths are censored, and every string in every line passes through redactText, so a
 * key that ends up in an unexpected place (an upstream error message) is still masked.
 */
import pino, { type DestinationStream, type Logger } from 'pino';
import { redactJson, redactText } from '../core/redact.js';

export type { Logger };

const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers["x-keygate-key"]',
  'req.headers["x-goog-api-key"]',
  'req.headers["api-key"]',
  'req.headers["x-partial-key"]',
  'headers.authorization',
  'headers["x-api-key"]',
  '*.apiKey',
  '*.api_key',
  '*.password',
  '*.secret',
  '*.token',
];

export function createLogger(opts: { level: string; destination?: DestinationStream }): Logger {
  return pino(
    {
      level: opts.level,
      base: undefined,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      formatters: { log: (obj) => redactJson(obj) },
      hooks: {
        logMethod(args, method) {
          method.apply(this, args.map((a) => (typeof a === 'string' ? redactText(a) : a)) as Parameters<typeof method>);
        },
      },
      serializers: {
        err: (e: Error) => ({ type: e.name, message: redactText(e.message), code: (e as { code?: string }).code }),
      },
    },
    opts.destination,
  );
}
