/** `npm run eval:guard`: prints the detection table and the misses (truncated). */
import { formatReport, runEval } from './evaluate.js';

const report = runEval();
console.log(formatReport(report));
const clip = (s: string) => (s.length > 90 ? `${s.slice(0, 87)}...` : s).replace(/\s+/g, ' ');
const missed = [...report.injectionOverall.misses.map((m) => `missed attack: ${clip(m)}`), ...report.benignOverall.matched.map((m) => `false positive: ${clip(m)}`)];
const secretMiss = report.secrets.misses.map((m) => `missed secret (${m.length} chars)`);
const piiMiss = report.pii.misses.map((m) => `missed PII: ${clip(m)}`);
if (missed.length + secretMiss.length + piiMiss.length) console.log(`\n${[...missed, ...secretMiss, ...piiMiss].join('\n')}`);
