/**
 * KV caches as the decoder graphs take them: one tensor per past_key_values.* input, each
 * [rows, heads, length, headSize]. Sequences of different lengths share a batch left-padded (the
 * attention mask hides the padding), so a row's real tokens are its last `lengths[row]` columns.
 * Batches are rebuilt only when sequences join or leave; between those, a step's present.*
 * outputs are the next step's past as they are. (A causal decoder that steps in place keeps its
 * running batch in kv-slots.ts instead.)
 */
import * as ort from 'onnxruntime-node';

export type KvArray = Float32Array | Uint16Array;

export interface KvBatch {
  rows: number;
  /** Columns per row (the padded length). */
  length: number;
  heads: number;
  headSize: number;
  /** By past input name, in the graph's order. */
  data: Map<string, KvArray>;
}

export interface KvLayout {
  /** The past_key_values.* input names. */
  names: string[];
  heads: number;
  headSize: number;
  type: 'float32' | 'float16';
}

/** A zeroed array of `elements` K/V values of the layout's type. */
export function kvArray(layout: KvLayout, elements: number): KvArray {
  return layout.type === 'float16' ? new Uint16Array(elements) : new Float32Array(elements);
}

export function emptyKv(layout: KvLayout, rows: number, length = 0): KvBatch {
  const size = rows * layout.heads * length * layout.headSize;
  return {
    rows,
    length,
    heads: layout.heads,
    headSize: layout.headSize,
    data: new Map(layout.names.map((n) => [n, kvArray(layout, size)])),
  };
}

/** Feeds for the past inputs. */
export function kvFeeds(kv: KvBatch, type: KvLayout['type'], feeds: Record<string, ort.Tensor>): void {
  for (const [name, data] of kv.data) feeds[name] = new ort.Tensor(type, data, [kv.rows, kv.heads, kv.length, kv.headSize]);
}

/** The present.* outputs of a run, as the next past. */
export function kvFromOutputs(
  layout: KvLayout,
  outputs: ort.InferenceSession.OnnxValueMapType,
  pastToPresent: (name: string) => string,
): KvBatch {
  const data = new Map<string, KvArray>();
  let dims: readonly number[] = [0, layout.heads, 0, layout.headSize];
  for (const name of layout.names) {
    const t = outputs[pastToPresent(name)]!;
    dims = t.dims;
    data.set(name, t.data as KvArray);
  }
  return { rows: dims[0]!, length: dims[2]!, heads: layout.heads, headSize: layout.headSize, data };
}

/** One row's columns [from, from + length) to copy into a new batch. */
export interface RowSource {
  kv: KvBatch;
  row: number;
  from: number;
  length: number;
}

/**
 * A new batch of `length` columns from rows of other batches; each row right-aligned (left
 * padding, for decoder self-attention) or left-aligned (right padding, for an encoder's K/V).
 */
export function gatherRows(layout: KvLayout, sources: readonly RowSource[], length: number, align: 'right' | 'left'): KvBatch {
  const out = emptyKv(layout, sources.length, length);
  const { heads, headSize } = layout;
  for (const name of layout.names) {
    const dst = out.data.get(name)!;
    sources.forEach((s, r) => {
      const src = s.kv.data.get(name)!;
      const at = align === 'right' ? length - s.length : 0;
      for (let h = 0; h < heads; h++) {
        const from = ((s.row * heads + h) * s.kv.length + s.from) * headSize;
        dst.set(src.subarray(from, from + s.length * headSize), ((r * heads + h) * length + at) * headSize);
      }
    });
  }
  return out;
}

/** Spans of columns, each [from, length), of one row of `kv`, end to end as a one-row batch. */
export function rowSpans(layout: KvLayout, kv: KvBatch, row: number, spans: readonly (readonly [number, number])[]): KvBatch {
  const length = spans.reduce((n, [, len]) => n + len, 0);
  const out = emptyKv(layout, 1, length);
  const { heads, headSize } = layout;
  for (const name of layout.names) {
    const src = kv.data.get(name)!;
    const dst = out.data.get(name)!;
    for (let h = 0; h < heads; h++) {
      let at = h * length;
      for (const [from, len] of spans) {
        const start = ((row * heads + h) * kv.length + from) * headSize;
        dst.set(src.subarray(start, start + len * headSize), at * headSize);
        at += len;
      }
    }
  }
  return out;
}

/** Several one-row caches end to end (cached prefix blocks, in order). */
export function concatColumns(layout: KvLayout, parts: readonly KvBatch[]): KvBatch {
  const length = parts.reduce((n, p) => n + p.length, 0);
  const out = emptyKv(layout, 1, length);
  const { heads, headSize } = layout;
  for (const name of layout.names) {
    const dst = out.data.get(name)!;
    let at = 0;
    for (const p of parts) {
      const src = p.data.get(name)!;
      for (let h = 0; h < heads; h++)
        dst.set(src.subarray(h * p.length * headSize, (h + 1) * p.length * headSize), (h * length + at) * headSize);
      at += p.length;
    }
  }
  return out;
}
