/** `npm run eval:guard`: prints the detection table and the misses (truncated). */
import { formatReport, runEval } from './evaluate.js';

const report = runEval();
console.log(formatReport(report));
const clip = (s: string) => (s.length > 90 ? `${s.slice(0, 87)}...` : s).replace(/\s+/g, ' ');
const missed = [...report.injectionOverall.misses.map((m) => `missed attack: ${clip(m)}`), ...report.benignOverall.matched.map((m) => `false positive: ${clip(m)}`)];
const secretMiss = report.secrets.misses.map((m) => `missed secret (${m.length} chars)`);
const piiMiss = report.pii.misses.map((m) => `missed PII: ${clip(m)}`);
const pubMiss = [...report.publicTrain.misses.map((m) => `missed (public train): ${clip(m)}`), ...report.publicTest.misses.map((m) => `missed (public held out): ${clip(m)}`)];
const dataFp = [...report.secretFalsePositives.matched.map((m) => `secret false positive: ${clip(m)}`), ...report.piiFalsePositives.matched.map((m) => `PII false positive: ${clip(m)}`)];
const realMiss = [...report.realTest.misses.map((m) => `missed (real held out): ${clip(m)}`), ...report.realTestBenign.matched.map((m) => `false positive (real held out): ${clip(m)}`)];
const nearFp = [...report.nearMiss.train.matched.map((m) => `false positive (near-miss train): ${clip(m)}`), ...report.nearMiss.test.matched.map((m) => `false positive (near-miss held out): ${clip(m)}`)];
if (nearFp.length) console.log(`\n${nearFp.join('\n')}`);
if (realMiss.length) console.log(`\n${realMiss.join('\n')}`);
if (pubMiss.length + dataFp.length) console.log(`\n${[...pubMiss, ...dataFp].join('\n')}`);
if (missed.length + secretMiss.length + piiMiss.length) console.log(`\n${[...missed, ...secretMiss, ...piiMiss].join('\n')}`);
