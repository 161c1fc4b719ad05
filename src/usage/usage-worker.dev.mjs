// Source runs only (vitest, tsx): the usage worker is TypeScript there, and a worker thread
// does not inherit the parent's loader, so it registers tsx itself. Built code (dist/,
// bench/.build) starts usage-worker.js directly and never reads this file.
import { register } from 'tsx/esm/api';

register();
await import('./usage-worker.ts');
