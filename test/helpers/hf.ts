/** The committed Hugging Face fixtures, their torch expectations, and an SSE reader for tests. */
import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import { repoPath } from './server.js';

export const HF = {
  bert: 'test/hf-models/tiny-bert',
  bertCls: 'test/hf-models/tiny-bert-cls',
  bertMlm: 'test/hf-models/tiny-bert-mlm',
  bertNer: 'test/hf-models/tiny-bert-ner',
  /** tiny-bert's encoder with a float16 last_hidden_state, as onnx/model_fp16.onnx only. */
  bertFp16Io: 'test/hf-models/tiny-bert-fp16-io',
  gpt2: 'test/hf-models/tiny-gpt2',
  gpt2NoCache: 'test/hf-models/tiny-gpt2-nocache',
  /** tiny-gpt2's weights behind use_cache_branch, num_logits_to_keep and positions from 1 (model_type gemma3_text). */
  gpt2Gemma3Io: 'test/hf-models/tiny-gpt2-gemma3-io',
  /** tiny-gpt2's weights without a position_ids input: the graph counts positions from the attention mask. */
  gpt2MaskPositions: 'test/hf-models/tiny-gpt2-mask-positions',
  /** tiny-gpt2's graph behind float16 past, present and logits (as fp16 and q4f16 exports). */
  gpt2Fp16Io: 'test/hf-models/tiny-gpt2-fp16-io',
  /** A Llama-shaped decoder on onnxruntime's GroupQueryAttention, weights in onnx/model.onnx_data. */
  llamaGqa: 'test/hf-models/tiny-llama-gqa',
  t5: 'test/hf-models/tiny-t5',
};

const json = (dir: string) => JSON.parse(readFileSync(repoPath(dir, 'expected.json'), 'utf8'));

export const bertExpected = json(HF.bert) as {
  sentences: string[];
  ids: number[][];
  mean_normalized: number[][];
  cls_normalized: number[][];
  mean: number[][];
  long_text: string;
  long_truncated: Record<string, { ids: number[]; mean_normalized: number[] }>;
};
export const clsExpected = json(HF.bertCls) as {
  sentences: string[];
  logits: number[][];
  probabilities: number[][];
  labels: number[];
  label_names: string[];
};
export const mlmExpected = json(HF.bertMlm) as {
  mask_token: string;
  cases: {
    text: string;
    ids: number[];
    token_ids: number[];
    predicted: string;
    scores: number[];
    probabilities: number[][];
    logits: number[][];
  }[];
};
export const nerExpected = json(HF.bertNer) as {
  cases: {
    text: string;
    ids: number[];
    labels: number[];
    label_names: string[];
    scores: number[];
    probabilities: number[][];
    logits: number[][];
  }[];
};
export const gpt2Expected = json(HF.gpt2) as {
  prompts: { prompt: string; ids: number[]; greedy_ids: number[]; greedy_text: string }[];
  chat: { messages: { role: string; content: string }[]; prompt: string; ids: number[]; greedy_ids: number[]; greedy_text: string };
  long_greedy_tokens: number;
};
/** Greedy ids of tiny-gpt2-fp16-io from torch, with past, present and logits rounded through float16. */
export const fp16IoExpected = json(HF.gpt2Fp16Io) as {
  prompts: { prompt: string; ids: number[]; greedy_ids: number[]; greedy_text: string }[];
};
/** Greedy ids of tiny-llama-gqa from a numpy implementation of the model (no onnxruntime). */
export const gqaExpected = json(HF.llamaGqa) as {
  prompts: { prompt: string; ids: number[]; greedy_ids: number[]; greedy_text: string }[];
};
export const t5Expected = json(HF.t5) as {
  prompts: { prompt: string; ids: number[]; greedy_ids: number[]; greedy_text: string }[];
  eos_token_id: number;
};

const MODEL_FILES = [
  'config.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'generation_config.json',
  'onnx/model.onnx',
  'onnx/model.onnx_data',
  'onnx/encoder_model.onnx',
  'onnx/decoder_model_merged.onnx',
];

/** Copies every file of a fixture model folder into a temp repo under `dest`. */
export async function copyHfModel(
  repo: { copy(fixture: string, dest: string): Promise<void> },
  fixture: string,
  dest: string,
  skip: string[] = [],
): Promise<void> {
  for (const f of MODEL_FILES) {
    if (skip.includes(f)) continue;
    try {
      readFileSync(repoPath(fixture, f));
    } catch {
      continue;
    }
    await repo.copy(`${fixture}/${f}`, `${dest}/${f}`);
  }
}

export function assertClose(actual: readonly number[], expected: readonly number[], tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  actual.forEach((v, i) => assert.ok(Math.abs(v - expected[i]!) <= tol, `${what}[${i}]: ${v} vs ${expected[i]} (tol ${tol})`));
}

/** Reads server-sent events until [DONE] (or the stream ends); returns the parsed data events. */
export async function readSse(res: Response): Promise<{ events: any[]; done: boolean }> {
  const text = await res.text();
  const events: any[] = [];
  let done = false;
  for (const block of text.split('\n\n')) {
    if (!block.startsWith('data: ')) continue;
    const data = block.slice(6);
    if (data === '[DONE]') done = true;
    else events.push(JSON.parse(data));
  }
  return { events, done };
}

export function post(url: string, body: unknown, signal?: AbortSignal): Promise<Response> {
  return fetch(url, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' }, signal });
}
