/**
 * A sequence's generated tokens as streamed text: decoded a few tokens at a time, held back
 * while the tail could start a stop string, ended at the first stop string.
 */
import type { PreTrainedTokenizer } from '@huggingface/transformers';
import type { GenerateChunk, TokenLogprob } from '../../../src/core/runtime.js';

/**
 * Decodes a growing list of token ids a few at a time, as TGI and vLLM do: each step decodes
 * only the tokens since the previous text was final, with the tokens of that previous step in
 * front so that decoders which treat a leading token specially (SentencePiece's word marker,
 * byte-level BPE's split characters) see the same context as a whole decode. Decoding the whole
 * continuation every step would cost O(n^2) over a long generation.
 */
class IncrementalDecoder {
  readonly ids: number[] = [];
  /** The tokens before `prefix` are final text; `prefix`..`read` is the context re-decoded each step. */
  private prefix = 0;
  private read = 0;
  text = '';

  constructor(private readonly tokenizer: PreTrainedTokenizer) {}

  private decode(from: number, to = this.ids.length): string {
    if (from >= to) return ''; // transformers.js refuses to decode no tokens
    return this.tokenizer.decode(this.ids.slice(from, to), { skip_special_tokens: true });
  }

  /** Adds a token; the text grows once it no longer ends in an unfinished character. */
  push(id: number): void {
    this.ids.push(id);
    this.settle(false);
  }

  /** The end of generation: whatever is pending counts, unfinished characters included. */
  flush(): void {
    this.settle(true);
  }

  private settle(final: boolean): void {
    const before = this.decode(this.prefix, this.read);
    const after = this.decode(this.prefix);
    if (after.length > before.length && (final || !after.endsWith('\uFFFD'))) {
      this.text += after.slice(before.length);
      this.prefix = this.read;
      this.read = this.ids.length;
    }
  }
}

/**
 * Turns generated token ids into text deltas. It holds back any tail that could start a stop
 * string, and ends generation at the first stop string.
 */
export class TextStream {
  private readonly decoder: IncrementalDecoder;
  private sent = '';
  private pendingIds: number[] = [];
  private pendingLogprobs: TokenLogprob[] = [];
  stopped = false;
  final = '';

  constructor(
    tokenizer: PreTrainedTokenizer,
    private readonly stops: readonly string[],
    private readonly onChunk: (chunk: GenerateChunk) => void,
    /** Tokens before stop strings count (vLLM's min_tokens): text before then is sent as it comes. */
    private readonly minTokens = 0,
  ) {
    this.decoder = new IncrementalDecoder(tokenizer);
  }

  get ids(): readonly number[] {
    return this.decoder.ids;
  }

  /** One generated token; afterwards `stopped` says whether a stop string ended the text. */
  put(id: number, logprob?: TokenLogprob): void {
    if (this.stopped) return;
    this.pendingIds.push(id);
    if (logprob) this.pendingLogprobs.push(logprob);
    this.decoder.push(id);
    const text = this.decoder.text;
    if (this.decoder.ids.length < this.minTokens) return this.emit(text);
    const stopAt = this.firstStop(text);
    if (stopAt >= 0) {
      this.stopped = true;
      this.emit(text.slice(0, stopAt));
      return;
    }
    this.emit(text.slice(0, this.safeEnd(text)));
  }

  end(): void {
    if (this.stopped) return;
    this.decoder.flush();
    const text = this.decoder.text;
    const stopAt = this.decoder.ids.length < this.minTokens ? -1 : this.firstStop(text);
    if (stopAt >= 0) this.stopped = true;
    this.emit(stopAt >= 0 ? text.slice(0, stopAt) : text, true);
  }

  private firstStop(text: string): number {
    let at = -1;
    // Only the region that was not yet sent can hold a new stop string.
    const from = Math.max(0, this.sent.length - Math.max(0, ...this.stops.map((s) => s.length)));
    for (const stop of this.stops) {
      const i = text.indexOf(stop, from);
      if (i >= 0 && (at < 0 || i < at)) at = i;
    }
    return at;
  }

  /** How much of `text` is final: not a possible stop prefix. */
  private safeEnd(text: string): number {
    let end = text.length;
    for (const stop of this.stops) {
      for (let n = Math.min(stop.length - 1, end); n > 0; n--) {
        if (text.slice(end - n, end) === stop.slice(0, n)) {
          end -= n;
          break;
        }
      }
    }
    return Math.max(end, this.sent.length);
  }

  private emit(text: string, last = false): void {
    this.final = text;
    const delta = text.slice(this.sent.length);
    if (!delta && !last) return;
    this.sent = text;
    const tokenIds = this.pendingIds;
    const logprobs = this.pendingLogprobs;
    this.pendingIds = [];
    this.pendingLogprobs = [];
    if (delta || tokenIds.length) this.onChunk({ text: delta, tokenIds, ...(logprobs.length ? { logprobs } : {}) });
  }
}
