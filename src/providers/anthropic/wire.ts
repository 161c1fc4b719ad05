/** The parts of Anthropic's Messages API wire format this adapter writes (docs: https://docs.anthropic.com/en/api/messages). */

export const ANTHROPIC_VERSION = '2023-06-01';
/** Anthropic requires max_tokens; used when neither the request nor the config sets one. */
export const DEFAULT_MAX_TOKENS = 4096;
/**
 * Name of the tool forced for `response_format` json (Anthropic's documented way to get
 * JSON that follows a schema: "JSON mode" in the tool-use docs). Its input is returned as
 * the message content, never as a tool call.
 */
export const JSON_TOOL_NAME = 'keygate_json_response';

export type ImageSource =
  | { type: 'base64'; media_type: string; data: string }
  | { type: 'url'; url: string };

export type AnthropicBlock =
  | { type: 'text'; text: string }
  | { type: 'image'; source: ImageSource }
  | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> }
  | { type: 'tool_result'; tool_use_id: string; content: string; is_error?: boolean };

export interface AnthropicMessage {
  role: 'user' | 'assistant';
  content: AnthropicBlock[];
}

export type AnthropicToolChoice =
  | { type: 'auto' | 'any' | 'none'; disable_parallel_tool_use?: boolean }
  | { type: 'tool'; name: string; disable_parallel_tool_use?: boolean };

export interface AnthropicTool {
  name: string;
  description?: string;
  input_schema: Record<string, unknown>;
}

export interface AnthropicRequest {
  model: string;
  messages: AnthropicMessage[];
  max_tokens: number;
  system?: string;
  stream?: boolean;
  temperature?: number;
  top_p?: number;
  stop_sequences?: string[];
  tools?: AnthropicTool[];
  tool_choice?: AnthropicToolChoice;
  metadata?: { user_id: string };
}
