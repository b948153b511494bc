/**
 * The sampler's draws under top_k, top_p and min_p equal those of the plain definition: sort
 * every token by weight, keep the k likeliest, then the likeliest that reach top_p of what is
 * left, and draw. The sampler finds those tokens without sorting the whole vocabulary; these
 * rows cover ties, banned tokens, min_p leaving fewer than k, flat and peaked distributions.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Sampler, type SamplingParams, mulberry32 } from '../../runtimes/huggingface/engine/sampler.js';

/** The definition, by a full sort. */
function reference(logits: Float32Array, p: SamplingParams, u: number): number {
  const { temperature: t, topP, topK = 0, minP = 0 } = p;
  const max = Math.max(...logits);
  const weights = Array.from(logits, (l) => {
    const w = Math.exp((l - max) / t);
    return w < minP ? 0 : w;
  });
  let order = weights.map((_, i) => i).sort((a, b) => weights[b]! - weights[a]! || a - b);
  if (topK > 0) order = order.slice(0, topK);
  const base = topK > 0 ? order.reduce((s, i) => s + weights[i]!, 0) : weights.reduce((s, w) => s + w, 0);
  let kept = 0;
  let k = 0;
  while (k < order.length && kept < topP * base) kept += weights[order[k++]!]!;
  order = order.slice(0, Math.max(k, 1));
  let target = u * order.reduce((s, i) => s + weights[i]!, 0);
  let last = order[0]!;
  for (const i of order) {
    if (weights[i] === 0) continue;
    last = i;
    target -= weights[i]!;
    if (target < 0) return i;
  }
  return last;
}

function rows(seed: number): Float32Array[] {
  const random = mulberry32(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random());
  const peaked = Float32Array.from({ length: 5000 }, () => gauss() * 2 + (random() < 0.002 ? 10 : 0));
  const flat = Float32Array.from({ length: 3000 }, () => random() * 0.5);
  // Ties across every bucket boundary, and banned tokens.
  const ties = Float32Array.from({ length: 2000 }, (_, i) => (i % 7 === 0 ? Number.NEGATIVE_INFINITY : Math.floor(i / 50)));
  const steep = Float32Array.from({ length: 4000 }, (_, i) => -i * 0.37);
  return [peaked, flat, ties, steep];
}

describe('sampler', () => {
  const settings: SamplingParams[] = [
    { temperature: 1, topP: 1, topK: 1 },
    { temperature: 0.7, topP: 0.8, topK: 20 },
    { temperature: 1.3, topP: 0.95 },
    { temperature: 0.5, topP: 0.3 },
    { temperature: 1, topP: 1, topK: 50, minP: 0.2 },
    { temperature: 1, topP: 0.9, topK: 1999 },
    { temperature: 2, topP: 0.999 },
    { temperature: 0.01, topP: 0.5, topK: 3 },
  ];

  it('draws what the full-sort definition of top_k, top_p and min_p draws', () => {
    for (const [r, logits] of rows(11).entries()) {
      for (const params of settings) {
        const sampler = new Sampler({ ...params, seed: 17 });
        // The sampler's own stream, so both draw with the same u.
        const u = mulberry32(17);
        for (let draw = 0; draw < 25; draw++) {
          assert.equal(sampler.next(logits), reference(logits, params, u()), `row ${r}, ${JSON.stringify(params)}, draw ${draw}`);
        }
      }
    }
  });
});
