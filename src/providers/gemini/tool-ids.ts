/**
 * Gemini function calls carry no ids (or only sometimes). OpenAI clients need one per call,
 * so ids are synthesised from what is stable in the answer: the upstream's own id when it
 * gives one, else the response id and the call's position. Tool results are matched back
 * by function name, which is what Gemini's functionResponse needs.
 */
export function toolCallId(upstreamId: unknown, responseId: string | undefined, position: number, name: string): string {
  if (typeof upstreamId === 'string' && upstreamId) return upstreamId;
  const safe = name.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 40);
  return responseId ? `call_${responseId}_${position}` : `call_${position}_${safe}`;
}
