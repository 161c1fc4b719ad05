import { rmSync } from 'node:fs';
import { ARTIFACTS_DIR } from './artifacts.js';

// A fresh artifacts folder per run, so the leak scan reads only this run's output.
export default function setup(): void {
  rmSync(ARTIFACTS_DIR, { recursive: true, force: true });
}
