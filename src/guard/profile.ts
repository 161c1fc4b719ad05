/**
 * One pass over the text that computes cheap facts (which words occur, digit runs, long
 * tokens, escape characters) so each detector can be skipped when it cannot match. Regex
 * engines cost ~10 µs per pattern per 4 KB even when nothing matches; this pass costs one.
 */

// Only words some detector asked for are collected: a bitmap check per word is far cheaper
// than inserting every word of a 100 KB prompt into a Set.
const TRIGGER_BITS = new Uint8Array(1 << 16);

export function registerTriggerWords(hashes: readonly number[]): void {
  for (const h of hashes) TRIGGER_BITS[h & 0xffff] = 1;
}

export interface TextProfile {
  /** Hashes of lowercase ASCII words (letter runs) that are registered trigger words. */
  words: Set<number>;
  at: boolean;
  colons: number;
  percents: number;
  backslashes: number;
  ampHash: boolean;
  /** Most digits inside one run of digits and separators (space - . ( ) + /). */
  maxDigitRun: number;
  /** Two capitals then two digits (an IBAN start). */
  ibanStart: boolean;
  /** Runs of base64/hex alphabet characters at least 16 long: [start, end). */
  longTokens: Array<[number, number]>;
  /** Eight or more two-digit hex tokens in a row ("69 67 6e ..."). */
  spacedHex: boolean;
  dashes5: boolean;
  scheme: boolean;
  /** `](` or `<img`: markdown or HTML links and images. */
  linkish: boolean;
}

export function wordHash(word: string): number {
  let h = 0;
  for (let i = 0; i < word.length; i++) h = (Math.imul(h, 31) + word.charCodeAt(i)) & 0x3fffffff;
  return h;
}

const MIN_TOKEN = 16;

export function profileText(text: string): TextProfile {
  const words = new Set<number>();
  let at = false;
  let colons = 0;
  let percents = 0;
  let backslashes = 0;
  let ampHash = false;
  let maxDigitRun = 0;
  let ibanStart = false;
  const longTokens: Array<[number, number]> = [];
  let spacedHex = false;
  let dashes5 = false;
  let scheme = false;
  let linkish = false;

  let h = 0;
  let inWord = false;
  let digitRun = 0;
  let tokStart = -1;
  let hexTok = 0; // length of the current all-hex token, -1 once it has a non-hex char
  let hexPairs = 0;
  let dashRun = 0;
  let prev = 0;
  let prev2 = 0;
  let prev3 = 0;

  const n = text.length;
  for (let i = 0; i <= n; i++) {
    const c = i < n ? text.charCodeAt(i) : 32;
    const lower = c | 0x20;
    const isLetter = lower >= 97 && lower <= 122;
    const isDigit = c >= 48 && c <= 57;

    if (isLetter) {
      h = inWord ? (Math.imul(h, 31) + lower) & 0x3fffffff : lower;
      inWord = true;
    } else if (inWord) {
      if (TRIGGER_BITS[h & 0xffff] === 1) words.add(h);
      inWord = false;
    }

    if (isDigit) {
      digitRun++;
      if (digitRun > maxDigitRun) maxDigitRun = digitRun;
    } else if (!(c === 32 || c === 45 || c === 46 || c === 40 || c === 41 || c === 43 || c === 47)) digitRun = 0;

    // base64 / url-safe base64 / hex alphabet runs
    const tokChar = isLetter || isDigit || c === 43 || c === 47 || c === 95 || c === 45 || c === 61;
    if (tokChar) {
      if (tokStart < 0) tokStart = i;
    } else if (tokStart >= 0) {
      if (i - tokStart >= MIN_TOKEN) longTokens.push([tokStart, i]);
      tokStart = -1;
    }

    const isHex = isDigit || (lower >= 97 && lower <= 102);
    if (isHex) hexTok = hexTok >= 0 ? hexTok + 1 : -1;
    else if (c === 32 || c === 58 || c === 44 || i === n) {
      hexPairs = hexTok === 2 ? hexPairs + 1 : 0;
      if (hexPairs >= 8) spacedHex = true;
      hexTok = 0;
    } else hexTok = -1;

    if (c === 45) {
      if (++dashRun >= 5) dashes5 = true;
    } else dashRun = 0;

    switch (c) {
      case 64:
        at = true;
        break;
      case 58:
        colons++;
        if (text.charCodeAt(i + 1) === 47 && text.charCodeAt(i + 2) === 47) scheme = true;
        break;
      case 37:
        percents++;
        break;
      case 92:
        backslashes++;
        break;
      case 35:
        if (prev === 38) ampHash = true;
        break;
      case 40:
        if (prev === 93) linkish = true;
        break;
      case 103: // "<img"
        if (prev === 109 && prev2 === 105 && prev3 === 60) linkish = true;
        break;
      default:
        break;
    }
    if (isDigit && prev >= 48 && prev <= 57 && prev2 >= 65 && prev2 <= 90 && prev3 >= 65 && prev3 <= 90) ibanStart = true;
    prev3 = prev2;
    prev2 = prev;
    prev = c;
  }
  return { words, at, colons, percents, backslashes, ampHash, maxDigitRun, ibanStart, longTokens, spacedHex, dashes5, scheme, linkish };
}

/** Word hashes for `base` and its common inflections (s, es, ed, d, ing). */
export function wordForms(...bases: string[]): number[] {
  const out = new Set<number>();
  for (const b of bases) {
    const stem = b.endsWith('e') ? b.slice(0, -1) : b;
    for (const w of [b, `${b}s`, `${b}es`, `${b}ed`, `${b}d`, `${stem}ing`, `${b}ing`]) out.add(wordHash(w));
  }
  return [...out];
}
