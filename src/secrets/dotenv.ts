/** Just enough of the .env format for migration: KEY=value, `export`, quotes, comments. */

export interface DotenvEntry {
  key: string;
  value: string;
  line: number;
}

const LINE = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)?\s*$/;

export function parseDotenv(text: string): DotenvEntry[] {
  const out: DotenvEntry[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const m = LINE.exec(raw);
    if (!m) return;
    let v = (m[2] ?? '').trim();
    const q = v[0];
    if ((q === '"' || q === "'") && v.lastIndexOf(q) > 0) v = v.slice(1, v.lastIndexOf(q));
    else v = v.replace(/\s+#.*$/, '');
    out.push({ key: m[1], value: v, line: i + 1 });
  });
  return out;
}

/** The .env text without the given variables (what the user should save after a migration). */
export function removeFromDotenv(text: string, keys: readonly string[]): string {
  const drop = new Set(keys);
  return text
    .split(/(?<=\n)/)
    .filter((raw) => {
      const m = LINE.exec(raw.replace(/\r?\n$/, ''));
      return !(m && drop.has(m[1]));
    })
    .join('');
}
