/** JSON paths of text parts, e.g. `messages[2].content[1].text`, and setting a value at one. */

export type PathSegment = string | number;

const IDENT = /^[A-Za-z_$][\w$]*$/;

export function formatPath(segments: readonly PathSegment[]): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else if (IDENT.test(s)) out += out ? `.${s}` : s;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out;
}

export function parsePath(path: string): PathSegment[] {
  const out: PathSegment[] = [];
  const re = /([A-Za-z_$][\w$]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]|\./g;
  let m: RegExpExecArray | null;
  let at = 0;
  while ((m = re.exec(path))) {
    if (m.index !== at) throw new Error(`malformed path: ${path}`);
    at = re.lastIndex;
    if (m[1] !== undefined) out.push(m[1]);
    else if (m[2] !== undefined) out.push(Number(m[2]));
    else if (m[3] !== undefined) out.push(JSON.parse(m[3]) as string);
  }
  if (at !== path.length) throw new Error(`malformed path: ${path}`);
  return out;
}

export function getAt(root: unknown, segments: readonly PathSegment[]): unknown {
  let cur: unknown = root;
  for (const s of segments) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[s];
  }
  return cur;
}

/** Sets a value at a path inside an already-cloned tree; returns false if the path is gone. */
export function setAt(root: unknown, segments: readonly PathSegment[], value: unknown): boolean {
  if (segments.length === 0) return false;
  const parent = getAt(root, segments.slice(0, -1));
  if (parent === null || typeof parent !== 'object') return false;
  (parent as Record<string | number, unknown>)[segments[segments.length - 1]] = value;
  return true;
}
