/**
 * The shield: prompt-injection and leak detection, policies and redaction for requests,
 * answers and streamed answers. Library module; the server wires it into the request path.
 */
export type { Category, Finding, Span, ScanResult, TextPart, PartSource, Pattern } from './types.js';
export { CATEGORIES } from './types.js';
export { scanRequest, scanAnswer, type ScanRequestOptions, type ScanAnswerOptions, type ShieldSwitches } from './scan.js';
export { scanText, type ScanTextOptions } from './scan-text.js';
export { extractRequestParts, extractAnswerParts, systemPromptOf, type WireFormat } from './extract.js';
export {
  evaluate,
  guardPolicySchema,
  defaultGuardPolicy,
  parseGuardPolicy,
  customPatternsOf,
  type GuardPolicy,
  type GuardPolicyInput,
  type GuardAction,
  type RedactionStyle,
  type Decision,
  type Redaction,
} from './policy.js';
export { applyRedactions, redactString, detokenize, type RedactOptions, type RedactedBody } from './redact.js';
export { createStreamRedactor, type StreamRedactor, type StreamRedactorOptions } from './stream.js';
export { auditExcerpt } from './audit.js';
export { policyViolation } from './errors.js';
export { fingerprintPrompt, detectPromptLeak, type PromptFingerprint } from './detectors/prompt-leak.js';
export { normalizeText, decodeLayers } from './normalize.js';
export { riskOf } from './risk.js';
