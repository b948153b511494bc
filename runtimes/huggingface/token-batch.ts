/**
 * Tokenizes a batch of texts into right-padded input_ids and attention_mask, truncating each
 * text as Python transformers does with truncation=True: the text is cut, the special tokens
 * around it ([CLS] ... [SEP]) are kept. transformers.js 4.3 cuts the finished sequence
 * instead, which drops the closing [SEP] and changes the embedding; hence our own.
 */
import { type PreTrainedTokenizer, Tensor as HfTensor } from '@huggingface/transformers';

export interface TokenBatch {
  input_ids: HfTensor;
  attention_mask: HfTensor;
  /** attention_mask's data: 1 for a token, 0 for padding. */
  mask: BigInt64Array;
  seqLen: number;
  tokenCounts: number[];
}

export class BatchTokenizer {
  private readonly prefix: number[] = [];
  private readonly suffix: number[] = [];
  private readonly padId: number;

  constructor(
    private readonly tokenizer: PreTrainedTokenizer,
    private readonly maxLen: number,
  ) {
    // What the post-processor adds around a single text, read off a probe text.
    const bare = tokenizer.encode('a', { add_special_tokens: false });
    const full = tokenizer.encode('a');
    for (let i = 0; i + bare.length <= full.length; i++) {
      if (bare.every((id, j) => full[i + j] === id)) {
        this.prefix = full.slice(0, i);
        this.suffix = full.slice(i + bare.length);
        break;
      }
    }
    this.padId = (tokenizer as unknown as { pad_token_id?: number }).pad_token_id ?? 0;
  }

  encode(text: string): number[] {
    const body = this.tokenizer.encode(text, { add_special_tokens: false });
    const room = Math.max(0, this.maxLen - this.prefix.length - this.suffix.length);
    return [...this.prefix, ...body.slice(0, room), ...this.suffix];
  }

  batch(texts: readonly string[]): TokenBatch {
    const rows = texts.map((t) => this.encode(t));
    const seqLen = Math.max(1, ...rows.map((r) => r.length));
    const ids = new BigInt64Array(rows.length * seqLen).fill(BigInt(this.padId));
    const mask = new BigInt64Array(rows.length * seqLen);
    rows.forEach((row, r) => {
      row.forEach((id, j) => {
        ids[r * seqLen + j] = BigInt(id);
        mask[r * seqLen + j] = 1n;
      });
    });
    return {
      input_ids: new HfTensor('int64', ids, [rows.length, seqLen]),
      attention_mask: new HfTensor('int64', mask, [rows.length, seqLen]),
      mask,
      seqLen,
      tokenCounts: rows.map((r) => r.length),
    };
  }
}
