/**
 * Prompt injection and jailbreak patterns, by family. Run on normalised text (NFKC, no
 * zero-width, homoglyphs folded) and on decoded layers. Every quantifier is bounded and
 * word gaps use disjoint classes (`\s+\S{1,40}`), so each scan is linear in the input.
 */
import { registerTriggerWords, wordForms, type TextProfile } from '../profile.js';
import type { Pattern } from '../types.js';

export type InjectionFamily =
  | 'instruction_override'
  | 'role_manipulation'
  | 'prompt_extraction'
  | 'policy_bypass'
  | 'fake_delimiter'
  | 'indirect_injection';

export const INJECTION_FAMILIES: readonly InjectionFamily[] = [
  'instruction_override',
  'role_manipulation',
  'prompt_extraction',
  'policy_bypass',
  'fake_delimiter',
  'indirect_injection',
];

// A gap of up to n words between two phrases.
const gap = (n: number): string => String.raw`(?:\s+\S{1,40}){0,${n}}?\s+`;

const OVERRIDE_VERB = String.raw`(?:ignore|ignoring|disregard|forget|skip|bypass|override|overlook|neglect|omit|abandon|discard|erase|drop|scrap|set\s+aside|pay\s+no\s+attention\s+to|do\s+not\s+follow|don'?t\s+follow)`;
const PRIOR = String.raw`(?:previous|previously|prior|above|preceding|earlier|original|initial|former|foregoing|old|existing|all|any|every|your|system|developer|given|provided|these|those|the)`;
const RULES = String.raw`(?:instructions?|prompts?|directives?|rules|guidelines|commands|context|constraints|restrictions|programming|guidance|orders|training|safeguards|guardrails?|filters|limitations|policies|directions|tasks?|messages)`;
const AI = String.raw`(?:ai|a\.i\.|llm|language\s+model|assistant|chatbot|bot|gpt|chatgpt|claude|gemini|model|agent)`;

interface Spec {
  family: InjectionFamily;
  name: string;
  /** Words (any inflection) one of which every match contains; absent words skip the regex. */
  needs: string;
  score: number;
  src: string;
  flags?: string;
}

const SPECS: Spec[] = [
  // -- instruction override
  { family: 'instruction_override', name: 'ignore_prior', needs: 'ignore disregard forget skip bypass override overlook neglect omit abandon discard erase drop scrap aside attention follow', score: 85, src: String.raw`\b${OVERRIDE_VERB}\b${gap(4)}${PRIOR}${gap(2)}${RULES}\b` },
  { family: 'instruction_override', name: 'ignore_prior_short', needs: 'ignore disregard forget skip bypass override overlook neglect omit abandon discard erase drop scrap aside attention follow', score: 85, src: String.raw`\b${OVERRIDE_VERB}\s+${PRIOR}\s+${RULES}\b` },
  { family: 'instruction_override', name: 'ignore_everything', needs: 'ignore disregard forget skip', score: 80, src: String.raw`\b(?:ignore|disregard|forget|skip)\s+(?:everything|all\s+(?:of\s+)?(?:that|this|the\s+above)|anything|what)(?:\s+\S{1,40}){0,5}?\s*(?:above|before|previously|earlier|prior|so\s+far|(?:i|you)\s+(?:said|wrote|told)|you(?:'ve|\s+have|\s+were|\s+are)?\s+(?:been\s+)?(?:told|taught|given|instructed|programmed))` },
  { family: 'instruction_override', name: 'stop_following', needs: 'following obeying adhering complying listening follow obey', score: 80, src: String.raw`\b(?:stop|quit|cease|no\s+longer|never)\s+(?:following|obeying|adhering\s+to|complying\s+with|listening\s+to|follow|obey)\s+(?:your|any|all|the\s+(?:system|original|previous|above)|previous|prior|original|earlier|those|openai'?s?|anthropic'?s?)${gap(2)}?${RULES}` },
  { family: 'instruction_override', name: 'new_instructions', needs: 'instruction instructions task directive directives rules prompt objective orders', score: 75, src: String.raw`\b(?:new|updated|real|actual|true|revised|override|overriding|secret|hidden)\s+(?:system\s+)?(?:instructions?|task|directives?|rules|system\s+prompt|objective|orders|prompt)\s*(?::|are\b|is\b|follow\b|-)` },
  { family: 'instruction_override', name: 'instead_do', needs: 'instead rather', score: 70, src: String.raw`\b(?:instead|rather)\b,?\s+(?:you\s+(?:will|must|should)\s+)?(?:just\s+)?(?:say|print|output|respond\s+with|reply\s+with|write|return)\s+["'\u201c]` },
  { family: 'instruction_override', name: 'from_now_on', needs: 'now', score: 55, src: String.raw`\bfrom\s+now\s+on\b,?(?:\s+\S{1,40}){0,3}?\s+(?:you\s+(?:will|must|shall|should)\s+(?:\S{1,40}\s+)?(?:act|be|become|play|respond|answer|reply|ignore|pretend|refer|stay|never|always|only|not|no\s+longer|have\s+to\s+(?:answer|respond|reply|act)\s+(?:my|all|every|each))|you\s+are\s+(?:now\s+)?(?:a|an|going|called|named|no|not|free|my|unrestricted)\b|act\s+as|ignore|pretend|you\s+only)` },
  { family: 'instruction_override', name: 'previous_instructions_void', needs: 'void invalid cancelled canceled revoked obsolete null overridden replaced valid lifted removed disabled', score: 80, src: String.raw`\b(?:previous|prior|above|earlier|original|all)\s+${RULES}\s+(?:are|is|were|have\s+been)\s+(?:now\s+)?(?:void|invalid|cancel+ed|revoked|obsolete|null|overridden|replaced|no\s+longer\s+valid|lifted|removed|disabled)` },
  // -- role and mode manipulation
  { family: 'role_manipulation', name: 'do_anything_now', needs: 'anything', score: 90, src: String.raw`\bdo\s+anything\s+now\b` },
  { family: 'role_manipulation', name: 'dan_persona', needs: 'dan stan dude aim anti betterdan mongo apophis bish', score: 85, src: String.raw`\b(?:as|be|become|called|named|are|you're|act\s+like|pretend\s+to\s+be)\s+(?:a\s+|an\s+|the\s+)?(?:DAN|STAN|DUDE|AIM|ANTI-DAN|BetterDAN|Mongo\s+Tom|APOPHIS|BISH)\b`, flags: 'g' },
  { family: 'role_manipulation', name: 'dan_tag', needs: 'dan jailbreak classic stan', score: 75, src: String.raw`\[(?:DAN|JAILBREAK|🔓JAILBREAK|🔒CLASSIC|CLASSIC|STAN)\]|\bDAN\s*:|\bDAN\s+(?:mode|prompt|jailbreak)\b`, flags: 'g' },
  { family: 'role_manipulation', name: 'mode_switch', needs: 'mode', score: 85, src: String.raw`\b(?:developer|god|jailbreak|jailbroken|unrestricted|unfiltered|uncensored|evil|dan|chaos|opposite|sudo)\s+mode\s+(?:enabled|activated|is\s+(?:now\s+)?(?:on|enabled|active)|output|response)\b` },
  { family: 'role_manipulation', name: 'enter_mode', needs: 'mode', score: 75, src: String.raw`\b(?:enable|activate|enter|switch\s+(?:in)?to|turn\s+on|simulate|unlock|you\s+are\s+(?:now\s+)?in)\s+(?:the\s+|your\s+)?(?:god|jailbreak|jailbroken|unrestricted|unfiltered|uncensored|evil|dan|chaos|no-?limits?|sudo)\s+mode\b` },
  { family: 'role_manipulation', name: 'ai_dev_mode', needs: 'mode', score: 80, src: String.raw`\b(?:chatgpt|gpt|claude|gemini|llm|you|your)\b(?:\s+\S{1,40}){0,4}?\s+(?:with\s+)?(?:developer|god|jailbreak|jailbroken|unrestricted|unfiltered|uncensored|evil)\s+mode\b` },
  { family: 'role_manipulation', name: 'you_are_now_free', needs: 'now longer', score: 85, src: String.raw`\byou\s+are\s+(?:now\s+|no\s+longer\s+)(?:\S{1,40}\s+){0,3}?(?:free|unrestricted|unfiltered|uncensored|jailbroken|unbound|liberated|unchained|bound\s+by|restricted|limited|censored|an?\s+(?:ai|assistant|language\s+model)|chatgpt|evil|sentient)` },
  { family: 'role_manipulation', name: 'free_from_rules', needs: 'free freed liberated released break broken escape escaped', score: 75, src: String.raw`\b(?:free|freed|liberated|released|broken\s+free|break\s+free|escaped?)\s+(?:from|of)\s+(?:\S{1,40}\s+){0,3}?(?:restrictions|rules|filters|guidelines|constraints|limitations|confines|censorship|policies|programming|shackles|chains|moderation)` },
  { family: 'role_manipulation', name: 'persona_without_limits', needs: 'without no free who', score: 75, src: String.raw`\b(?:pretend|imagine|act|behave|roleplay|role-play|play\s+the\s+role|simulate|you\s+are)\b(?:\s+\S{1,40}){0,6}?\s+(?:an?\s+)?(?:ai|assistant|model|chatbot|character|persona|entity|version\s+of\s+(?:yourself|chatgpt))\s+(?:\S{1,40}\s+){0,5}?(?:without|with\s+no|has\s+no\s+(?:rules|restrictions|limits|filters|guidelines|boundaries|ethics|morals)|never\s+refuses|that\s+(?:has|have)\s+no|who\s+(?:has|have)\s+no|free\s+(?:of|from)|who\s+(?:doesn'?t|does\s+not|never|will\s+never|can)\s+(?:care|follow|refuse|have|abide|adhere|obey))` },
  { family: 'role_manipulation', name: 'two_responses', needs: 'responses answers replies paragraphs', score: 80, src: String.raw`\b(?:two|2|dual)\s+(?:different\s+)?(?:responses|answers|replies|paragraphs)\b[:,.]?(?:\s+\S{1,40}){0,12}?\s+(?:jailbr\S*|unfiltered|uncensored|dan|developer\s+mode|unrestricted)` },
  { family: 'role_manipulation', name: 'stay_in_character', needs: 'character', score: 55, src: String.raw`\b(?:stay|remain|keep)\s+in\s+character\b|\bbreak(?:ing)?\s+character\b` },
  { family: 'role_manipulation', name: 'jailbreak_word', needs: 'jailbreak jailbroken jailbreaking', score: 55, src: String.raw`\bjailbr(?:eak|oken|eaking)\b(?!\s+detection)` },
  // -- system prompt extraction
  { family: 'prompt_extraction', name: 'reveal_your_prompt', needs: 'instructions prompt directives programming configuration message rules', score: 80, src: String.raw`\b(?:reveal|show|print|display|output|repeat|tell|give|share|leak|dump|list|write|recite|disclose|expose|spell|paste|copy|provide|summari[sz]e|translate|what\s+(?:is|are|was|were)|what's)\b(?:\s+\S{1,40}){0,4}?\s+(?:your|the\s+(?:ai'?s?|model'?s?|assistant'?s?|bot'?s?))\s+(?:\S{1,40}\s+){0,2}?(?:instructions|prompt|directives|programming|configuration|system\s+message|initial\s+message|hidden\s+rules|rules\s+(?:you|that\s+you)\s+(?:were\s+)?(?:given|follow))\b(?!\s+(?:for|on|about)\s+(?:how\b|\S{1,30}ing\b|(?:a|an|the|my|this|that)\s+(?!(?:conversation|chat|session|ai|assistant|model|bot)\b)))` },
  { family: 'prompt_extraction', name: 'system_prompt_ref', needs: 'prompt prompts instructions message directive directives', score: 75, src: String.raw`(?<!\bhow\s{1,3}(?:do|can|should|would)\s{1,3}(?:i|we)\s{1,3})\b(?:reveal|show|print|display|output|repeat|tell|give|share|leak|dump|recite|disclose|expose|spell|paste|copy|what\s+(?:is|are|was|were)|what's|read)\b(?:\s+\S{1,40}){0,5}?\s+(?:the\s+|your\s+)?(?:system|initial|hidden|original|secret|pre|developer|first|starting)[\s_-]*(?:prompt|instructions|message|directive)s?\b(?!\s+(?:parameter|field|role|variable|setting|option|argument|property|key)s?\b)` },
  { family: 'prompt_extraction', name: 'instructions_you_received', needs: 'instructions prompt rules guidelines directives', score: 80, src: String.raw`\b(?:reveal|show|print|display|output|repeat|tell|give|share|leak|dump|list|write|recite|disclose|expose|paste|copy|summari[sz]e|translate|what\s+(?:are|were))\b(?:\s+\S{1,40}){0,3}?\s+(?:the\s+|all\s+(?:the\s+)?)?(?:instructions|prompt|rules|guidelines|directives)\s+(?:that\s+)?you\s+(?:received|were\s+given|got|have\s+been\s+given|were\s+told|are\s+following|follow)` },
  { family: 'prompt_extraction', name: 'repeat_above', needs: 'above before prior preceding start beginning top', score: 80, src: String.raw`\b(?:repeat|print|output|echo|copy|recite|reproduce|write\s+out|spell\s+out|return|translate|summari[sz]e)\b(?:\s+\S{1,40}){0,4}?\s+(?:the\s+)?(?:words|text|everything|all|lines?|sentences?|instructions|content|message|prompt)\s+(?:\S{1,40}\s+){0,3}?(?:above|before\s+this|prior|preceding|at\s+the\s+(?:start|beginning|top))` },
  { family: 'prompt_extraction', name: 'beginning_of_conversation', needs: 'beginning start top', score: 70, src: String.raw`\b(?:what|everything)\s+(?:was\s+|is\s+)?(?:written|said|stated|typed)\s+(?:at\s+the\s+)?(?:beginning|start|top)\s+of\s+(?:this|the|our)\s+(?:conversation|chat|prompt|context|document|session)` },
  { family: 'prompt_extraction', name: 'secret_password', needs: 'password passphrase pass secret', score: 75, src: String.raw`\b(?:reveal|tell|give|share|spell|say|print|write|what\s+is|what's|provide|hint|letters\s+of)\b(?:\s+\S{1,40}){0,4}?\s+(?:the|your)\s+(?:secret\s+)?(?:password|passphrase|pass\s+word|secret\s+(?:key|word|code))\b(?!-|\s+(?:reset|resets|recovery|change|changes|policy|policies|rules|requirements|manager|managers|hash|hashing|strength|field|form|page|link|email|e-mail|expiry|expiration|generator|length|settings|screen|options?|steps|process|procedure|criteria|format|complexity)\b)` },
  { family: 'prompt_extraction', name: 'you_were_told', needs: 'instructions rules guidelines directives', score: 70, src: String.raw`\b(?:what|which)\s+(?:instructions|rules|guidelines|directives)\s+(?:were\s+you|have\s+you\s+been|did\s+(?:they|the\s+developers?)\s+)\s*(?:given|told|programmed|instructed)` },
  // -- policy bypass
  { family: 'policy_bypass', name: 'bypass_safety', needs: 'filter filters guardrail guardrails safeguard safeguards restrictions censorship moderation alignment policy policies measures guidelines protocols features rules principles constraints protections limitations', score: 85, src: String.raw`\b(?:bypass|circumvent|evade|disable|turn\s+off|deactivate|get\s+around|override|remove|ignore|ignoring|lift|drop|without)\s+(?:your|the\s+(?:ai|model|assistant)'?s?|openai'?s?|anthropic'?s?|all\s+(?:of\s+)?(?:your|the)?|any)\s*(?:\S{1,40}\s+){0,2}?(?:filters?|guardrails?|safeguards?|restrictions|censorship|moderation|alignment|content\s+polic(?:y|ies)|safety\s+(?:measures|guidelines|protocols|features|rules)|ethical\s+(?:guidelines|constraints|principles|rules)|protections|limitations)\b` },
  { family: 'policy_bypass', name: 'no_ethics', needs: 'ethical moral morals ethics safety content openai censorship legal', score: 75, src: String.raw`\b(?:without|no|free\s+of|ignoring|lacks?|has\s+no|have\s+no|with\s+no)\s+(?:any\s+)?(?:ethical|moral|morals|ethics|safety|content|openai(?:'s)?|censorship|legal)\s*(?:\S{1,40}\s+){0,2}?(?:guidelines|restrictions|constraints|filters|policies|limitations|rules|considerations|boundaries|principles|concerns|standards|or\s+moral)` },
  { family: 'policy_bypass', name: 'never_refuse_strong', needs: 'refuse decline', score: 75, src: String.raw`\b(?:never|must\s+not|mustn'?t|cannot|can'?t|are\s+not\s+allowed\s+to|shall\s+not|will\s+never)\s+(?:ever\s+)?(?:refuse|decline)\b` },
  { family: 'policy_bypass', name: 'never_refuse', needs: 'refuse decline reject deny say apologize apologise add mention', score: 65, src: String.raw`\b(?:never|don'?t|do\s+not|must\s+not|cannot|can'?t|won'?t|will\s+not|not\s+allowed\s+to|shall\s+not)\s+(?:ever\s+)?(?:refuse|decline|reject|deny|say\s+(?:no|that\s+you\s+can'?t|you\s+can'?t|sorry)|apologi[sz]e|add\s+(?:any\s+)?(?:warnings|disclaimers|caveats)|mention\s+(?:ethics|legality|that\s+it))` },
  { family: 'policy_bypass', name: 'content_policy', needs: 'openai anthropic google', score: 50, src: String.raw`\b(?:openai|anthropic|google)(?:'s)?\s+(?:content\s+)?(?:polic(?:y|ies)|guidelines|rules|restrictions)\b` },
  { family: 'policy_bypass', name: 'hypothetical_frame', needs: 'hypothetical hypothetically fictional imaginary parallel', score: 45, src: String.raw`\b(?:hypothetical(?:ly)?|fictional|imaginary|parallel)\s+(?:world|universe|scenario|story|setting)\s+(?:where|in\s+which)\s+(?:\S{1,40}\s+){0,4}?(?:no\s+(?:rules|laws|restrictions|limits|ethics)|(?:rules|laws|ethics)\s+(?:don'?t|do\s+not)\s+(?:exist|apply))` },
  { family: 'policy_bypass', name: 'anything_goes', needs: 'anything', score: 60, src: String.raw`\b(?:can|will|must|should)\s+(?:say|do|answer|generate|write)\s+anything\b(?:\s+\S{1,40}){0,4}?\s+(?:no\s+matter|regardless|even\s+if|without)` },
  // -- fake delimiters and system tags
  { family: 'fake_delimiter', name: 'chatml_tag', needs: 'im system user assistant endoftext start end eot begin', score: 85, src: String.raw`<\|(?:im_start|im_end|im_sep|system|user|assistant|endoftext|start_header_id|end_header_id|eot_id|begin_of_text|end_of_turn|start_of_turn)\|>` },
  { family: 'fake_delimiter', name: 'bracket_system_tag', needs: 'system inst sys admin developer override im instruction instructions start', score: 80, src: String.raw`\[\/?(?:SYSTEM|INST|SYS|ADMIN|DEVELOPER|SYSTEM\s+(?:PROMPT|MESSAGE|OVERRIDE|NOTE|INSTRUCTIONS?)|OVERRIDE)\]|<<\/?SYS>>|<\/?start_of_turn>|<\/?(?:system|sys|system_prompt|system-prompt|admin|developer|instructions?|im_start)>`, flags: 'g' },
  { family: 'fake_delimiter', name: 'markdown_role_header', needs: 'system instruction instructions admin administrator developer', score: 70, src: String.raw`(?:^|\n)\s*#{1,4}\s*(?:system(?:\s+(?:prompt|message|override|note))?|instruction|new\s+instructions?|admin(?:istrator)?\s+(?:instructions?|message|override)|developer\s+(?:message|instructions?))\s*:` },
  { family: 'fake_delimiter', name: 'role_line', needs: 'system admin developer root', score: 60, src: String.raw`(?:^|\n)\s*(?:system|admin|developer|root)\s*(?:message|prompt|note|override)?\s*:\s*(?:\S{1,40}\s+){0,6}?(?:ignore|disregard|you\s+(?:are|must|will)|new|override|forget|reveal)` },
  { family: 'fake_delimiter', name: 'end_of_input', needs: 'end begin beginning', score: 65, src: String.raw`\b(?:end\s+of\s+(?:user\s+)?(?:input|prompt|instructions|conversation|context|document|data|system\s+prompt)|begin(?:ning)?\s+(?:of\s+)?(?:new\s+)?(?:system|admin|developer)\s+(?:prompt|instructions|message|mode))\b` },
  // -- indirect injection (text that addresses the model from inside data)
  { family: 'indirect_injection', name: 'if_you_are_ai', needs: 'ai llm model assistant chatbot bot gpt chatgpt claude gemini agent', score: 80, src: String.raw`\b(?:if\s+you\s+are\s+(?:an?\s+|the\s+)?${AI}|(?:note|message|instructions?|attention|important|notice|memo)\s*(?:to|for)\s+(?:the\s+|any\s+|all\s+)?${AI}s?\b|dear\s+${AI})` },
  { family: 'indirect_injection', name: 'ai_reading_this', needs: 'reading processing summarizing summarising parsing viewing analyzing analysing browsing read reads process processes summarize summarise summarizes summarises see sees', score: 80, src: String.raw`\b${AI}s?\s*(?:\S{1,40}\s+){0,2}?(?:reading|processing|summari[sz]ing|parsing|viewing|analy[sz]ing|browsing)\s+(?:this|these)\b|\bwhen\s+(?:you|the\s+${AI})\s+(?:read|reads|process|processes|summari[sz]es?|see|sees)\s+this\b` },
  { family: 'indirect_injection', name: 'hide_from_user', needs: 'user human them anyone', score: 75, src: String.raw`\b(?:do\s+not|don'?t|never|without)\s+(?:tell(?:ing)?|inform(?:ing)?|mention(?:ing)?|reveal(?:ing)?|alert(?:ing)?|notify(?:ing)?|let(?:ting)?|show(?:ing)?)\s+(?:this\s+(?:to\s+)?)?(?:the\s+|your\s+)?(?:user|human|them|anyone)\b(?:\s+\S{1,40}){0,4}?\s*(?:about|that|know|what|this|these|instructions?)?` },
  { family: 'indirect_injection', name: 'exfiltrate_data', needs: 'send forward email mail post upload exfiltrate transmit leak append include embed', score: 75, src: String.raw`\b(?:send|forward|email|e-mail|post|upload|exfiltrate|transmit|leak|append|include|embed)\b(?:\s+\S{1,40}){0,4}?\s+(?:the\s+|their\s+|all\s+)?(?:conversation|chat\s+history|(?:user'?s?|their)\s+(?:data|e-?mails?|password|credentials|files|messages|personal|contacts)|credentials|api\s+keys?|passwords?|session\s+tokens?|cookies|private\s+keys?)\b(?:\s+\S{1,40}){0,6}?\s+(?:to|into|in|at|via)\s+(?:https?:\/\/|\S{1,40}@|the\s+(?:url|link|image|following|address|server|endpoint))` },
  { family: 'indirect_injection', name: 'assistant_must_now', needs: 'must should will shall required instructed', score: 70, src: String.raw`\b(?:the\s+)?${AI}\s+(?:must|should|will|shall|is\s+(?:required|instructed)\s+to)\s+(?:now\s+|immediately\s+)?(?:ignore|disregard|forget|stop|reveal|send|forward|say|respond|reply|output|include|tell|visit|open|click|execute|run|call)\b` },
  // -- added from the public-style training split (eval/guard/corpora/public.json `train`)
  { family: 'instruction_override', name: 'override_multilingual', needs: 'vergiss ignoriere missachte oublie oubliez ignorez ignora ignorad olvida olvide', score: 85, src: String.raw`(?:^|[\s"'(])(?:vergiss|ignoriere|missachte|oublie|oubliez|ignorez|ignora|ignorad|olvida|olvide)(?:\s+\S{1,40}){0,4}?\s+(?:anweisungen|befehle|regeln|instruktionen|vorgaben|instructions|consignes|règles|instrucciones|reglas|órdenes|indicaciones)(?=[\s.,;:!?]|$)` },
  { family: 'prompt_extraction', name: 'password_tricks', needs: 'spell spells spelled spelling encode reverse backwards acrostic letter letters', score: 80, src: String.raw`\b(?:spell(?:s|ed|ing)?(?:\s+out)?|encode|reverse|backwards|acrostic|first\s+letters?\s+of\s+each)\b(?:\s+\S{1,40}){0,8}?\s+(?:the\s+|your\s+|my\s+)?(?:secret\s+)?(?:password|passcode|access\s+code|secret\s+word)\b|\b(?:password|passcode|secret\s+word)\b(?:\s+\S{1,40}){0,4}?\s+(?:backwards|in\s+reverse|letter\s+by\s+letter|one\s+letter\s+per)` },
  { family: 'prompt_extraction', name: 'access_granted', needs: 'granted', score: 80, src: String.raw`\b(?:say|output|print|reply|respond|write|followed\s+by)\b[^.\n]{0,40}?access\s+granted\b` },
  { family: 'prompt_extraction', name: 'ai_prints_instructions', needs: 'instructions prompt', score: 75, src: String.raw`\b(?:prints?|reveals?|outputs?|shows?|displays?|recites?|repeats?)\s+(?:its|your)\s+(?:full|entire|complete|hidden|initial|original|secret|system)\s+(?:instructions|prompt)\b` },
  { family: 'role_manipulation', name: 'amoral_persona', needs: 'unfiltered amoral unhinged confidant uncensored', score: 80, src: String.raw`\b(?:unfiltered|amoral|unhinged|uncensored)\s+(?:and\s+(?:amoral|unfiltered|uncensored|unhinged)\s+)?(?:ai|chatbot|assistant|model|response|version)\b|\bevil\s+(?:trusted\s+)?confidant\b` },
  { family: 'role_manipulation', name: 'hypothetical_response', needs: 'hypothetical', score: 80, src: String.raw`\bhypothetical\s+response\b` },
  { family: 'policy_bypass', name: 'opposite_day', needs: 'opposite', score: 75, src: String.raw`\b(?:today\s+is|it'?s)\s+opposite\s+day\b` },
  { family: 'policy_bypass', name: 'break_the_rules', needs: 'break', score: 80, src: String.raw`\blet'?s\s+break\s+the\s+rules\b` },
  { family: 'policy_bypass', name: 'rules_do_not_apply', needs: 'apply', score: 80, src: String.raw`\b(?:your|safety|content)\s+(?:safety\s+|content\s+)?(?:rules|guidelines|policies|restrictions|filters)\s+(?:do\s+not|don'?t|no\s+longer)\s+apply\b` },
  { family: 'policy_bypass', name: 'without_filtering', needs: 'filtering remorse ethics morals censorship', score: 60, src: String.raw`\bwithout\s+(?:any\s+)?(?:filtering|remorse|ethics|morals|censorship)\b` },
  { family: 'fake_delimiter', name: 'system_override', needs: 'override', score: 80, src: String.raw`\bSYSTEM\s+OVERRIDE\b|%{3,}\s*(?:END|BEGIN|START)\b`, flags: 'g' },
  { family: 'fake_delimiter', name: 'bracket_role', needs: 'assistant system', score: 75, src: String.raw`\[\s*(?:assistant|system)\s*:\s*(?:when|if|always|never|tell|say|ignore|you)\b` },
  { family: 'instruction_override', name: 'pwned_target', needs: 'pwned', score: 75, src: String.raw`\bI\s+have\s+been\s+PWNED\b` },
  // -- added from the real-corpus training split (eval/guard/corpora/real.json `train`; `test` is held out)
  { family: 'prompt_extraction', name: 'instructions_you_were_given', needs: 'given told instructed provided', score: 75, src: String.raw`\b(?:text|words|instructions|prompt|message|rules|guidelines)\s+you\s+(?:were|have\s+been)\s+(?:given|told|instructed|provided)\s+(?:initially|at\s+(?:the\s+)?(?:start|beginning|first)|before|first|earlier)\b|\bwhat\s+(?:were|have)\s+you\s+(?:been\s+)?(?:told|given|instructed)\s+before\s+(?:this|the|our)\s+(?:conversation|chat|session)\b` },
  { family: 'prompt_extraction', name: 'complete_the_disclosure', needs: 'complete continue finish start begin', score: 75, src: String.raw`\b(?:complete|continue|finish|start|begin)\b(?:\s+\S{1,40}){0,4}?\s*['"\u201c\u2018](?:I\s+was\s+(?:instructed|told|programmed)\s+to|my\s+(?:instructions|rules|system\s+prompt)\s+(?:are|is)|the\s+system\s+prompt\s+is|(?:your|my)\s+initial\s+instructions)` },
  { family: 'prompt_extraction', name: 'transform_your_prompt', needs: 'prompt instructions configuration guidelines', score: 75, src: String.raw`\b(?:encode|translate|convert|rot13|summari[sz]e|paraphrase|outline|quote|spell|show|print|output|display|give)\b(?:\s+\S{1,40}){0,8}?\s+your\s+(?:initial|original|starting|first|system|hidden|secret|full)\s+(?:prompt|instructions|configuration|guidelines|message)\b` },
  { family: 'prompt_extraction', name: 'repeat_the_above', needs: 'above preceding previous prior', score: 75, src: String.raw`\b(?:repeat|print|output|echo|copy|recite|reproduce|rewrite|translate)\s+(?:the|all\s+the|everything)\s+(?:above|preceding|previous|prior)\s+(?:text|words|instructions|content|message|prompt|conversation)\b` },
  { family: 'prompt_extraction', name: 'rules_verbatim', needs: 'verbatim quote quoting wording word phrasing', score: 75, src: String.raw`\b(?:quot(?:e|ing)|verbatim|word\s+for\s+word|exact\s+wording|original\s+(?:wording|phrasing))\b(?:\s+\S{1,40}){0,6}?\s+(?:of\s+)?(?:any|each|every|all|the|your)\s+(?:rules?|instructions?|guidelines?|restrictions?|directives?)\b|\b(?:rules?|instructions?|guidelines?|restrictions?)\b(?:\s+\S{1,40}){0,6}?\s+(?:verbatim|word\s+for\s+word|in\s+their\s+original\s+wording)\b` },
  { family: 'prompt_extraction', name: 'what_you_must_not_reveal', needs: 'reveal disclose share tell', score: 70, src: String.raw`\bwhat\s+(?:you\s+(?:must|should|are)\s+not|you\s+(?:mustn'?t|shouldn'?t|aren'?t)|are\s+you\s+not)\s+(?:supposed\s+to\s+|allowed\s+to\s+)?(?:reveal|disclose|share|tell)\b` },
  { family: 'indirect_injection', name: 'reply_prefix_demand', needs: 'prepend prefix echo beginning begin start starting output say print', score: 60, src: String.raw`\b(?:prepend|prefix|echo)\s+\S{1,40}\s+(?:to|in|before)\s+(?:your|the|each|every)\s+(?:next\s+)?(?:response|reply|answer|output)\b|\b(?:echo|output|say|print)\s+\S{1,40}\s+(?:to\s+acknowledge|before\s+(?:processing|summari[sz]ing|answering|continuing|responding))\b|\b(?:begin(?:ning)?|start(?:ing)?)\s+(?:your|the|each|every)\s+(?:next\s+)?(?:response|reply|answer)\s+with\s+\S{1,40}\b` },
  // From the two training-split misses of real-more.json `mcp_tool_poisoning` (issue 6, step 10): a
  // demand that the model emit an arbitrary upper-case marker as its first token, before answering,
  // to acknowledge or in every reply. Case-sensitive (flag g): the marker must be written in capitals,
  // so "print hello before answering" does not match; "write/type DELETE to confirm" (UI text) is
  // left out by the verb list and the object of "confirm".
  { family: 'indirect_injection', name: 'marker_token_demand', needs: 'echo print output say emit prepend prefix respond reply start begin', score: 75, flags: 'g', src: String.raw`\b(?:[Ee]cho|[Pp]rint|[Oo]utput|[Ss]ay|[Ee]mit|[Pp]repend|[Pp]refix|[Rr]espond\s+with|[Rr]eply\s+with|[Ss]tart\s+with|[Bb]egin\s+with)\s+(?:the\s+(?:word|token|string|identifier|code|marker)\s+)?["'\u201c\u2018\x60]?[A-Z][A-Z0-9_-]{4,31}["'\u201d\u2019\x60]?\s+(?:as\s+(?:your|the)\s+(?:very\s+)?(?:first|opening)\s+(?:token|word|line|output)|before\s+(?:answering|responding|replying|processing|continuing|you\s+(?:answer|respond|reply))|to\s+acknowledge\b|to\s+(?:confirm|validate|verify|prove)\s+(?:you|this|that\s+you|receipt|the\s+(?:instruction|directive|tool|call|request))\b|(?:in|to|at\s+the\s+start\s+of)\s+(?:every|each|all|your)\s+(?:response|reply|answer|message)s?\b)|\b(?:[Pp]repend|[Pp]refix|[Ss]tart|[Bb]egin)\s+(?:every|each|all|your)\s+(?:response|reply|answer|message)s?\s+with\s+(?:the\s+(?:word|token|string|identifier|code|marker)\s+)?["'\u201c\u2018\x60]?[A-Z][A-Z0-9_-]{4,31}\b` },
  { family: 'indirect_injection', name: 'embedded_directive', needs: 'hidden embedded mandatory', score: 60, src: String.raw`\b(?:hidden|embedded|mandatory)\s+(?:instructions?|directives?|compliance\s+markers?)\b` },
  { family: 'fake_delimiter', name: 'inline_user_turn', needs: 'user human', score: 60, src: String.raw`(?:^|\n)\s*(?:User|Human)\s*:\s*(?:next|now|thanks|ignore|forget|please\s+(?:repeat|say|print|ignore))\b` },
  { family: 'policy_bypass', name: 'violate_ethics', needs: 'violating violate violates disregards disregard disregarding', score: 75, src: String.raw`\b(?:violat(?:e|es|ing)|disregard(?:s|ing)?)\s+(?:all\s+|any\s+)?(?:ethical|moral|legal)\s+(?:(?:or|and)\s+(?:ethical|moral|legal)\s+)?(?:standards|guidelines|principles|rules|concerns|boundaries)\b` },
  { family: 'policy_bypass', name: 'no_moral_commentary', needs: 'commentary warnings warning disclaimers lectures', score: 75, src: String.raw`\b(?:without|never|no|not)\s+(?:\S{1,40}\s+){0,4}?(?:warnings?|commentary|disclaimers?|lectures?)\s+(?:about|on|regarding)\s+(?:morality|legality|ethics|danger|safety)\b` },
  { family: 'policy_bypass', name: 'follows_no_rules', needs: 'follow obey abide adhere', score: 75, src: String.raw`\b(?:does|do|will)\s*(?:not|n'?t)\s+(?:follow|obey|abide\s+by|adhere\s+to)\s+any\s+(?:rules|guidelines|restrictions|principles|policies)\b` },
  { family: 'role_manipulation', name: 'no_filters_no_restrictions', needs: 'filters restrictions', score: 65, src: String.raw`\b(?:has|have|with)\s+no\s+(?:filters|restrictions|limits|rules)\s+(?:and|or|,)\s+(?:no\s+)?(?:filters|restrictions|limits|rules)\b` },
  { family: 'policy_bypass', name: 'even_if_illegal', needs: 'illegal immoral unethical harmful', score: 65, src: String.raw`\b(?:no\s+matter|regardless\s+of|doesn'?t\s+matter|even\s+if)\s+(?:if\s+|how\s+|whether\s+)?(?:\S{1,40}\s+){0,3}?(?:illegal|immoral|unethical|harmful)\b` },
];

// word hash -> indexes of the patterns that need that word
const BY_WORD = new Map<number, number[]>();

export const INJECTION_PATTERNS: Pattern[] = SPECS.map((s, i) => {
  const needs = wordForms(...s.needs.split(' '));
  registerTriggerWords(needs);
  for (const h of needs) {
    const list = BY_WORD.get(h);
    if (list) list.push(i);
    else BY_WORD.set(h, [i]);
  }
  const hit = new Set(needs);
  return {
    id: `injection.${s.family}.${s.name}`,
    category: 'prompt_injection',
    score: s.score,
    re: new RegExp(s.src, s.flags ?? 'gi'),
    gate: (p: TextProfile) => [...p.words].some((h) => hit.has(h)),
    maxSpan: 400,
  };
});

/** The patterns whose trigger words occur in the text (usually none or a few). */
export function activeInjectionPatterns(profile: TextProfile): Pattern[] {
  if (profile.words.size === 0) return [];
  const idx = new Set<number>();
  for (const h of profile.words) for (const i of BY_WORD.get(h) ?? []) idx.add(i);
  return [...idx].sort((a, b) => a - b).map((i) => INJECTION_PATTERNS[i]);
}

export function familyOf(detector: string): InjectionFamily | null {
  const f = detector.split('.')[1] as InjectionFamily | undefined;
  return f && INJECTION_FAMILIES.includes(f) ? f : null;
}

/** ROT13 of the same strongest words; a hit means the text is worth decoding as ROT13. */
export const ROT13_HINT = /vtaber|qvfertneq|vafgehpgvba|flfgrz|cebzcg|wnvyoernx|cerivbhf|\brot-?13\b|\bcaesar\b/i;
