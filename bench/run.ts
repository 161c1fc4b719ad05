/**
 * `npm run bench`: keygate side by side with the direct upstream, a bare undici proxy (the
 * floor) and Portkey's gateway, all in front of one mock upstream on loopback, each server
 * its own process, load from another. Prints one table and writes bench/results/latest.json.
 * Flags: --quick, --soak, --profile, --no-micro, --only=a,b (see bench/lib/args.ts).
 */
import { parseArgs } from './lib/args.js';
import { built, buildChildren } from './lib/build.js';
import { startChild, stopAll, stopAllOnExit } from './lib/children.js';
import { startLoader } from './lib/load-client.js';
import { machine } from './lib/machine.js';
import { runMicro, type MicroOutcome } from './lib/micro.js';
import { goals, ratios, rows, type TargetReport } from './lib/report.js';
import { readPrevious, writeResults } from './lib/results-file.js';
import { MOCK_STREAM, scenarioSpec, timing, type ScenarioId } from './lib/scenarios.js';
import { combineRounds } from './lib/rounds.js';
import type { LoadResult } from './load/protocol.js';
import { soak, type SoakResult } from './lib/soak.js';
import { directLine, failureLines, featureLines, goalTable, mainTable, microTable, ratioLines } from './lib/table.js';
import { PROFILE_DIR, TARGET_LABELS, startTarget, type RunningTarget, type TargetId } from './lib/targets.js';

const log = (s: string) => process.stderr.write(`bench: ${s}\n`);

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  stopAllOnExit();
  const m = machine();
  log(`${m.nproc} CPU (${m.cpu}), node ${m.node}, load average ${m.loadAvg1m.toFixed(2)}`);
  const t = timing(args.quick);

  await buildChildren();
  const mock = await startChild({
    name: 'mock-upstream',
    args: [built('bench/servers/mock-upstream.ts')],
    env: { MOCK_TTFT_MS: String(MOCK_STREAM.ttftMs), MOCK_CHUNK_MS: String(MOCK_STREAM.chunkMs), MOCK_CHUNKS: String(MOCK_STREAM.chunks) },
  });
  const mockOrigin = `http://127.0.0.1:${mock.ready.port}`;
  const loader = await startLoader();
  const targetOpts = {
    mockOrigin,
    mockPid: mock.proc.pid,
    profiled: args.profile,
    profileDir: PROFILE_DIR,
    redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  };

  if (args.soak) {
    const started = await startTarget('keygate-sqlite', targetOpts);
    if (!started.ok) throw new Error(`keygate did not start: ${started.reason}`);
    const result: SoakResult = await soak(loader, started.target, log);
    await started.target.stop();
    const f = (v: number | null) => (v === null ? '-' : v.toFixed(1));
    process.stdout.write(
      `\nkeygate (SQLite) soak, c=16: RSS ${f(result.rssMbAt100k)} MB at 100k -> ${f(result.rssMbAt300k)} MB at 300k requests ` +
        `(${f(((result.rssMbAt300k ?? 0) / (result.rssMbAt100k || 1) - 1) * 100)}% as it stands)` +
        (result.afterGc
          ? `; after a full GC: RSS ${f(result.afterGc.at100k.rssMb)} -> ${f(result.afterGc.at300k.rssMb)} MB (${f(result.afterGc.rssGrowthPct)}%), heap in use ${f(result.afterGc.at100k.heapUsedMb)} -> ${f(result.afterGc.at300k.heapUsedMb)} MB (${f(result.afterGc.heapGrowthPct)}%)`
          : '') +
        `: ${result.flat ? 'flat (within 10%)' : 'NOT flat'}; ${result.rps.toFixed(0)} req/s, ${result.failed} failed\n`,
    );
    log(`wrote ${writeResults({ kind: 'soak', date: new Date().toISOString(), machine: m, features: started.target.features, ...result }, 'soak-')}`);
    return;
  }

  // All gateways up at once (an idle server costs nothing), then every scenario round-robin.
  const reports: TargetReport[] = [];
  const runningTargets: Array<{ report: TargetReport; target: RunningTarget; rounds: Map<ScenarioId, LoadResult[]> }> = [];
  for (const id of args.only) {
    log(`${TARGET_LABELS[id]}: starting`);
    const started = await startTarget(id, targetOpts);
    const report: TargetReport = { id, label: TARGET_LABELS[id], status: started.ok ? 'ok' : 'skipped', features: started.ok ? started.target.features : {}, rssMb: null, scenarios: {} };
    if (!started.ok) {
      report.reason = started.reason;
      log(`${TARGET_LABELS[id]}: skipped (${started.reason})`);
    } else runningTargets.push({ report, target: started.target, rounds: new Map() });
    reports.push(report);
  }
  const fmt = (v: number | null) => (v === null ? '-' : v.toFixed(2));
  // Prime every gateway (JIT, pools, caches) before anything is measured: otherwise the first
  // round of the first scenario measures V8's warm-up, not the gateway.
  for (const { report, target } of runningTargets) {
    log(`priming ${report.id}`);
    for (const sc of ['json-c16', 'stream-c16'] as const) {
      await loader.run({ origin: target.origin, path: target.path, headers: target.headers, ...scenarioSpec(sc, { warmupMs: 0, durationMs: args.quick ? 500 : 2000, rounds: 1 }) });
    }
  }
  for (const sc of args.scenarios) {
    for (let round = 1; round <= t.rounds; round++) {
      for (const { report, target, rounds } of runningTargets) {
        const cpu0 = target.cpuMs();
        const r = await loader.run({ origin: target.origin, path: target.path, headers: target.headers, ...scenarioSpec(sc, t) });
        const cpu1 = target.cpuMs();
        r.cpuUsPerRequest = cpu0 !== null && cpu1 !== null && r.completed ? ((cpu1 - cpu0) * 1000) / r.completed : null;
        rounds.set(sc, [...(rounds.get(sc) ?? []), r]);
        log(`${sc} round ${round}/${t.rounds} ${report.id}: ${r.rps.toFixed(0)} req/s, p50 ${fmt(r.latencyMs.p50)} ms, p99 ${fmt(r.latencyMs.p99)} ms, first byte p50 ${fmt(r.ttfbMs.p50)} ms, CPU ${fmt(r.cpuUsPerRequest ?? null)} us/req, ${r.errors} errors, non-2xx ${JSON.stringify(r.non2xx)}`);
      }
    }
  }
  await new Promise((r) => setTimeout(r, 500));
  for (const { report, target, rounds } of runningTargets) {
    report.rssMb = target.rssMb();
    for (const [sc, rs] of rounds) report.scenarios[sc] = combineRounds(rs);
    await target.stop();
  }
  await loader.stop();

  let micro: MicroOutcome = { rows: [], skipped: [] };
  if (args.micro) micro = await runMicro(log);

  const rs = rows(reports);
  const rt = ratios(rs);
  const gs = goals(rs, rt, readPrevious<{ flat?: boolean }>('soak-latest.json')?.flat ?? null);
  const previous = readPrevious<{ rows?: Array<{ id: TargetId; rpsC16: number | null }> }>('latest.json');
  const vsPrevious = rs
    .map((r) => {
      const p = previous?.rows?.find((x) => x.id === r.id)?.rpsC16;
      return p && r.rpsC16 ? `${r.id} ${p.toFixed(0)} -> ${r.rpsC16.toFixed(0)} req/s (${(((r.rpsC16 - p) / p) * 100).toFixed(1)}%)` : null;
    })
    .filter(Boolean)
    .join('; ');

  const out = [
    '',
    `keygate bench, ${new Date().toISOString()}, ${m.nproc} CPU ${m.cpu}, node ${m.node}${args.quick ? ', --quick' : ''}`,
    `${t.rounds} round(s) per scenario, round-robin over the gateways, median of rounds; each: warm-up ${t.warmupMs} ms discarded, ${t.durationMs} ms measured; stream: TTFT ${MOCK_STREAM.ttftMs} ms, ${MOCK_STREAM.chunks} chunks every ${MOCK_STREAM.chunkMs} ms`,
    '',
    mainTable(rs),
    directLine(reports.find((r) => r.id === 'direct')),
    failureLines(reports),
    '',
    ratioLines(rt),
    '',
    goalTable(gs),
    '',
    featureLines(reports),
    vsPrevious ? `\nvs previous run: ${vsPrevious}` : '',
    '',
    args.micro ? microTable(micro.rows) : '(micro-benchmarks skipped: --no-micro)',
    ...micro.skipped.map((s) => `micro ${s.file} skipped: ${s.reason}`),
    '',
  ];
  process.stdout.write(out.join('\n'));
  const file = writeResults({ kind: 'run', date: new Date().toISOString(), quick: args.quick, machine: m, timing: t, mockStream: MOCK_STREAM, rows: rs, ratios: rt, goals: gs, targets: reports, micro });
  log(`wrote ${file}${args.profile.length ? `; CPU profiles in ${PROFILE_DIR}` : ''}`);
}

main()
  .catch((err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  })
  .finally(() => stopAll());
