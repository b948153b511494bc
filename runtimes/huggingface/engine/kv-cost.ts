/**
 * What one token of KV cache costs, from the model's config.json: layers x heads x head size x
 * 2 (key and value) x bytes per element, as vLLM sizes its cache. Encoder-decoder models also
 * keep the cross-attention K/V of every prompt token; that is counted per prompt token.
 */
import type { HfConfig } from '../hf-folder.js';

function num(config: HfConfig, keys: string[]): number | undefined {
  for (const key of keys) {
    const v = config[key];
    if (typeof v === 'number' && v > 0) return v;
  }
  return undefined;
}

export interface KvShape {
  layers: number;
  kvHeads: number;
  headSize: number;
  bytesPerElement: number;
}

export function kvShape(config: HfConfig, bytesPerElement: number): KvShape {
  const layers = num(config, ['num_decoder_layers', 'num_hidden_layers', 'n_layer', 'num_layers', 'decoder_layers']) ?? 1;
  const heads = num(config, ['num_attention_heads', 'n_head', 'num_heads', 'decoder_attention_heads']) ?? 1;
  const kvHeads = num(config, ['num_key_value_heads']) ?? heads;
  const width = num(config, ['hidden_size', 'n_embd', 'd_model']) ?? heads;
  const headSize = num(config, ['head_dim', 'd_kv']) ?? Math.max(1, Math.floor(width / heads));
  return { layers, kvHeads, headSize, bytesPerElement };
}

export function bytesPerToken(shape: KvShape): number {
  return shape.layers * shape.kvHeads * shape.headSize * 2 * shape.bytesPerElement;
}
