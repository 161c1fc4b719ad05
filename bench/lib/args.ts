/** Flags after `npm run bench --`. */
import { SCENARIO_IDS, type ScenarioId } from './scenarios.js';
import { TARGET_IDS, type TargetId } from './targets.js';

export interface BenchArgs {
  quick: boolean;
  soak: boolean;
  /** Targets run under `node --cpu-prof` (profiles in bench/results/profiles); `--profile` alone: keygate-sqlite. */
  profile: readonly TargetId[];
  micro: boolean;
  only: readonly TargetId[];
  scenarios: readonly ScenarioId[];
}

export function parseArgs(argv: readonly string[]): BenchArgs {
  const has = (f: string) => argv.includes(f);
  const onlyArg = argv.find((a) => a.startsWith('--only='));
  const only = onlyArg ? (onlyArg.slice('--only='.length).split(',') as TargetId[]) : TARGET_IDS;
  const unknown = only.filter((t) => !TARGET_IDS.includes(t));
  const scArg = argv.find((a) => a.startsWith('--scenarios='));
  const scenarios = scArg ? (scArg.slice('--scenarios='.length).split(',') as ScenarioId[]) : SCENARIO_IDS;
  if (scenarios.some((s) => !SCENARIO_IDS.includes(s))) throw new Error(`--scenarios: use ${SCENARIO_IDS.join(', ')}`);
  if (unknown.length) throw new Error(`--only: unknown target ${unknown.join(', ')}; use ${TARGET_IDS.join(', ')}`);
  const profArg = argv.find((a) => a === '--profile' || a.startsWith('--profile='));
  const profile = !profArg ? [] : profArg === '--profile' ? (['keygate-sqlite'] as TargetId[]) : (profArg.slice('--profile='.length).split(',') as TargetId[]);
  if (has('--help')) {
    process.stdout.write(
      'npm run bench [-- --quick | --soak] [--profile[=a,b]] [--no-micro] [--only=floor,keygate-sqlite,...] [--scenarios=json-c1,json-c16,stream-c16]\n' +
        '  --quick    short warm-up and windows: a smoke run\n' +
        '  --soak     keygate RSS after 100k and 300k requests (flat within 10%?)\n' +
        '  --profile  keygate-sqlite (or the targets named) under node --cpu-prof, profiles in bench/results/profiles\n',
    );
    process.exit(0);
  }
  // direct is the baseline every added latency is measured from: always run it.
  const withDirect = only.includes('direct') ? only : (['direct', ...only] as TargetId[]);
  return { quick: has('--quick'), soak: has('--soak'), profile, micro: !has('--no-micro'), only: withDirect, scenarios };
}
