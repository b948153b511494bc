/** Generated tokens' log-probabilities in OpenAI's two answer shapes: completions' and chat's. */
import type { PromptTokenLogprob, TokenLogprob, TokenProbability } from '../../core/runtime.js';

export interface CompletionLogprobs {
  tokens: string[];
  /** null for a prompt's first token (echo), which nothing predicts. */
  token_logprobs: (number | null)[];
  /** Per token, its alternatives by text, with the chosen token among them (as vLLM answers). */
  top_logprobs: (Record<string, number> | null)[];
  /** Per token, where its text starts in the choice's text. */
  text_offset: number[];
}

/** Completions' shape, for tokens whose text starts `offset` characters into the choice. */
export function completionLogprobs(entries: readonly (TokenLogprob | PromptTokenLogprob)[], offset: number): CompletionLogprobs {
  const out: CompletionLogprobs = { tokens: [], token_logprobs: [], top_logprobs: [], text_offset: [] };
  for (const entry of entries) {
    out.tokens.push(entry.token);
    out.token_logprobs.push(entry.logprob);
    out.top_logprobs.push(entry.top && Object.fromEntries([entry, ...entry.top].map((t) => [t.token, t.logprob as number])));
    out.text_offset.push(offset);
    offset += entry.token.length;
  }
  return out;
}

/** Characters the tokens' texts take: where the next tokens' offsets start. */
export const textLength = (entries: readonly { token: string }[]) => entries.reduce((n, e) => n + e.token.length, 0);

interface ChatTokenProbability {
  token: string;
  logprob: number;
  /** The token's text as UTF-8 bytes, since one character may span tokens. */
  bytes: number[];
}

const encoder = new TextEncoder();
const chatToken = (t: TokenProbability): ChatTokenProbability => ({
  token: t.token,
  logprob: t.logprob,
  bytes: [...encoder.encode(t.token)],
});

/** Chat's shape: `{content: [{token, logprob, bytes, top_logprobs}]}`. */
export function chatLogprobs(entries: readonly TokenLogprob[]): {
  content: (ChatTokenProbability & { top_logprobs: ChatTokenProbability[] })[];
} {
  return { content: entries.map((e) => ({ ...chatToken(e), top_logprobs: e.top.map(chatToken) })) };
}
