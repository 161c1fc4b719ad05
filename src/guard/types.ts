/**
 * Shared types of the shield. A detector is data (compiled patterns with a category and a
 * score), so scanning, streaming redaction and the ReDoS test all walk the same lists.
 */

import type { TextProfile } from './profile.js';

export type Category = 'prompt_injection' | 'secret' | 'pii' | 'system_prompt_leak' | 'exfiltration';

export const CATEGORIES: readonly Category[] = ['prompt_injection', 'secret', 'pii', 'system_prompt_leak', 'exfiltration'];

/** Where a finding sits: the JSON path of the text part and the UTF-16 offsets inside it. */
export interface Span {
  path: string;
  start: number;
  end: number;
}

export interface Finding {
  category: Category;
  /** e.g. `injection.instruction_override`, `secret.openai`, `pii.credit_card`. */
  detector: string;
  /** 0-100: how sure and how bad. */
  score: number;
  span: Span;
  /** Masked and truncated; never the raw secret. */
  excerpt: string;
  /** Set when the match was found only after decoding (e.g. `base64`, `rot13`). */
  encoding?: string;
}

export interface Pattern {
  id: string;
  category: Category;
  score: number;
  /** Must carry the `g` flag. Bounded quantifiers only, so the stream tail is bounded. */
  re: RegExp;
  /** Extra check on the match (Luhn, mod-97...); false drops it. */
  validate?: (match: RegExpExecArray) => boolean;
  /** Cheap check on the text's profile; false skips the regex (it cannot match). */
  gate?: (profile: TextProfile) => boolean;
  /** Case-sensitive literals one of which every match contains (a cheap `includes` gate). */
  literals?: readonly string[];
  /**
   * How many characters before its literal a match may start (default: maxSpan). 0 when the
   * literals are where matches begin: the stream redactor then holds back from the literal.
   */
  lead?: number;
  /** Adjusts the reported span, e.g. extends an e-mail match left from its `@`. */
  locate?: (text: string, match: RegExpExecArray) => { start: number; end: number } | null;
  /** Index of the capture group to report (default: the whole match). */
  group?: number;
  /** Longest text a match needs before it is recognised; sizes the stream tail. */
  maxSpan: number;
}

/** A text part of a request or answer, with where it came from. */
export interface TextPart {
  path: string;
  text: string;
  source: PartSource;
}

export type PartSource = 'system' | 'user' | 'assistant' | 'tool_args' | 'tool_result' | 'tool_definition' | 'other';

export interface ScanResult {
  findings: Finding[];
  /** 0-100. */
  risk: number;
  /** Risk per category, same scale; lets a policy block on one category's risk. */
  riskByCategory: Partial<Record<Category, number>>;
  /** Number of text parts scanned (proves nested parts were reached). */
  partsScanned: number;
  /** The parts scanned, with their original text (for audit excerpts; never stored whole). */
  parts: TextPart[];
}
