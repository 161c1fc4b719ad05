/** The 403 a blocked request gets. The message names the category only, never the content. */
import { GatewayError } from '../core/errors.js';
import type { Category } from './types.js';

const LABELS: Record<Category, string> = {
  prompt_injection: 'a prompt injection',
  secret: 'a secret or credential',
  pii: 'personal data',
  system_prompt_leak: 'the system prompt',
  exfiltration: 'a data exfiltration link',
};

export function policyViolation(category: Category): GatewayError {
  return new GatewayError(403, 'keygate_policy_violation', category, `Blocked by the gateway's content policy: the request contains ${LABELS[category]}.`);
}
