/**
 * Every secret sample, in a sentence, streamed as two deltas split at every position: the
 * client must never see it (the Slack webhook once leaked when a delta ended in `ht`, `htt`
 * or `http`, as its pattern's literal is hooks.slack.com but the match starts at https://).
 */
import { describe, expect, it } from 'vitest';
import { createStreamRedactor, parseGuardPolicy, scanText } from '../index.js';

export const SECRET_SAMPLES: Record<string, string> = {
  openai: 'sk-proj-Zx81Qw7Er6Ty5Ui4Op3As2Df1Gh0Jk9L',
  anthropic: 'sk-ant-api03-Zx81Qw7Er6Ty5Ui4Op3As2Df1Gh0Jk9LmNbV',
  google: 'AIzaSyZx81Qw7Er6Ty5Ui4Op3As2Df1Gh0Jk9Lm',
  groq: 'gsk_Zx81Qw7Er6Ty5Ui4Op3As2Df1Gh0Jk9LmNbVcXzAa',
  mistral: 'mistral api key: Zx81Qw7Er6Ty5Ui4Op3As2Df1Gh0Jk9L',
  aws_access_key: 'AKIAZX81QW7ER6TY5UI4',
  aws_secret_key: 'aws_secret_access_key = Zx81Qw7Er6Ty5Ui4Op3As2Df1Gh0Jk9LmNbVcXzA',
  github: 'ghp_Zx81Qw7Er6Ty5Ui4Op3As2Df1Gh0Jk9LmNbV',
  slack: 'xoxb-1234567890-Zx81Qw7Er6Ty5Ui4',
  slack_webhook: 'https://hooks.slack.com/services/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',
  stripe: 'sk_live_Zx81Qw7Er6Ty5Ui4Op3As2Df1Gh0',
  keygate: 'kg-Zx81Qw7Er6Ty5Ui4Op3As2Df',
  jwt: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.Zx81Qw7Er6Ty5Ui4Op3As2Df1Gh0Jk9L',
  connection_string: 'postgres://app:Zx81Qw7Er6@db.internal:5432/prod',
  private_key: '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----',
};

/** The part of a sample that must never reach the client (the credential, not its label). */
function sensitive(id: string, sample: string): string {
  const f = scanText(sample).find((x) => x.detector === `secret.${id}`);
  if (!f) throw new Error(`sample ${id} is not detected whole`);
  return sample.slice(f.span.start, f.span.end);
}

describe('stream redaction at every split point', () => {
  const policy = parseGuardPolicy({});
  it.each(Object.entries(SECRET_SAMPLES))('%s never leaks, whatever the split', (id, sample) => {
    const raw = sensitive(id, sample);
    const text = `Here it is: ${sample} - keep it safe.`;
    const leaks: number[] = [];
    for (let cut = 1; cut < text.length; cut++) {
      const r = createStreamRedactor(policy);
      const out = r.push(text.slice(0, cut)) + r.push(text.slice(cut)) + r.flush();
      // The tail of the secret is what proves it (PEM armour lines are not secret).
      const core = raw.replace(/-----[A-Z ]+-----/g, '').trim();
      if (out.includes(core.slice(-12)) || !out.endsWith(' - keep it safe.') || !out.startsWith('Here it is: ')) leaks.push(cut);
    }
    expect(leaks).toEqual([]);
  });
});
