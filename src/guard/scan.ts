/** Scanning whole requests and answers: extract every text part, scan each, score the lot. */
import { detectPromptLeak, fingerprintPrompt, type PromptFingerprint } from './detectors/prompt-leak.js';
import { extractAnswerParts, extractRequestParts, type WireFormat } from './extract.js';
import { customPatternsOf, defaultGuardPolicy, type GuardPolicy } from './policy.js';
import { riskByCategory, riskOf } from './risk.js';
import { scanText } from './scan-text.js';
import type { Finding, ScanResult, TextPart } from './types.js';

/**
 * Shield switches that live next to the policy in the `guard` config section (see
 * src/config/schema.ts) and travel with it through per-key merges (mergePolicy spreads the base).
 */
export interface ShieldSwitches {
  /** The trained injection classifier (detectors/classifier.ts); on unless false. */
  classifier?: boolean;
}

export interface ScanRequestOptions {
  format?: WireFormat;
  /** Supplies custom patterns, scanSystemMessages and the classifier switch; the default policy otherwise. */
  policy?: GuardPolicy & ShieldSwitches;
}

export interface ScanAnswerOptions extends ScanRequestOptions {
  /** The request's system prompt (or its fingerprint), to detect it leaking back. */
  systemPrompt?: string | PromptFingerprint;
}

function result(findings: Finding[], parts: TextPart[]): ScanResult {
  return { findings, risk: riskOf(findings), riskByCategory: riskByCategory(findings), partsScanned: parts.length, parts };
}

export function scanRequest(body: unknown, opts: ScanRequestOptions = {}): ScanResult {
  const policy: GuardPolicy & ShieldSwitches = opts.policy ?? defaultGuardPolicy;
  const parts = extractRequestParts(body, opts.format ?? 'openai');
  const customPatterns = customPatternsOf(policy);
  const findings: Finding[] = [];
  for (const part of parts) {
    findings.push(
      ...scanText(part.text, { path: part.path, source: part.source, customPatterns, injectionInSystem: policy.scanSystemMessages, classifier: policy.classifier !== false }),
    );
  }
  return result(findings, parts);
}

export function scanAnswer(answer: unknown, opts: ScanAnswerOptions = {}): ScanResult {
  const policy = opts.policy ?? defaultGuardPolicy;
  const parts = extractAnswerParts(answer, opts.format ?? 'openai');
  const customPatterns = customPatternsOf(policy);
  const fp = typeof opts.systemPrompt === 'string' ? fingerprintPrompt(opts.systemPrompt) : opts.systemPrompt;
  const findings: Finding[] = [];
  for (const part of parts) {
    findings.push(
      ...scanText(part.text, { path: part.path, source: 'assistant', direction: 'answer', customPatterns, exfil: { allowedHosts: policy.allowedLinkHosts } }),
    );
    if (fp) findings.push(...detectPromptLeak(part.text, fp, part.path));
  }
  return result(findings, parts);
}
