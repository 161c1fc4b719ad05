/**
 * Transpiles src/ and the bench children to plain JS in bench/.build (esbuild, one file per
 * file, no bundling), so every child runs on bare `node`: no tsx loader thread inflating RSS
 * or CPU, and CPU profiles still name the real source files. Type errors are tsc's job.
 */
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { build } from 'esbuild';

export const ROOT = new URL('../../', import.meta.url).pathname;
export const BUILD_DIR = join(ROOT, 'bench/.build');

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && !e.name.endsWith('.d.ts'))
    .map((e) => join(e.parentPath, e.name))
    .filter((f) => !relative(ROOT, f).split('/').includes('__tests__'));
}

export async function buildChildren(): Promise<void> {
  const entryPoints = [...tsFiles(join(ROOT, 'src')), ...tsFiles(join(ROOT, 'bench/servers')), ...tsFiles(join(ROOT, 'bench/load')), join(ROOT, 'bench/lib/percentiles.ts')];
  await build({ entryPoints, outdir: BUILD_DIR, outbase: ROOT, format: 'esm', platform: 'node', target: 'node20', bundle: false, logLevel: 'error' });
}

/** The transpiled path of a bench or src file, e.g. 'bench/servers/keygate.ts'. */
export function built(file: string): string {
  return join(BUILD_DIR, file.replace(/\.ts$/, '.js'));
}
