/**
 * Skip notices of the test suite, through the gateway's masking logger: a reason can carry a
 * command's output or a service URL with its password, and goes out masked like any log line.
 */
import { createLogger } from '../../src/server/logger.js';

const logger = createLogger({ level: 'warn', destination: process.stderr });

export function warnSkip(message: string): void {
  logger.warn(message);
}
