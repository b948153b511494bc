/**
 * The decoder session a causal engine steps with: the model's own graph plus, for each
 * present.* output, a small output holding just the column that this run added.
 *
 * Why: onnxruntime-node copies every output it returns into a new, zero-filled JS buffer. A step
 * that fetches the whole present.* outputs copies the running batch's entire K/V each time
 * (~50 MB at batch 16 on gpt2-small), and the allocator's page faults and V8's marking of that
 * garbage come on top. Fetching only the new columns and writing them in place into a K/V
 * buffer that has room to grow (causal-decoder.ts) leaves onnxruntime's own Concat as the only
 * copy. In-process on gpt2-small, batch 16, 40 cached tokens: 31.0 -> 24.6 ms a step.
 *
 * The extra nodes go into a second GraphProto field appended to the model's bytes. Protobuf
 * parsers merge repeated occurrences of a message field (repeated members are appended), so
 * the model's own bytes are neither decoded nor rewritten, whatever they hold.
 */
import { access, readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import { ELEM, FIELDS, attr, int64Tensor, node, tensorValueInfo } from '../../onnx-ml/onnx-proto.js';
import { ProtoWriter, readFields, stringOf } from '../../onnx-ml/protobuf.js';
import type { KvLayout } from './kv-batch.js';

const { model: M, graph: G, opset: O } = FIELDS;

/** The output that holds the newest column of a present.* output. */
export const newColumnOutput = (present: string) => `tsserve.new_column.${present}`;

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

const LAST_INDEX = 'tsserve.new_column.index';
/** Gather takes negative indices from opset 11 on. */
const MIN_OPSET = 11;

function defaultOpset(modelBytes: Uint8Array): number {
  let version = 0;
  for (const f of readFields(modelBytes)) {
    if (f.field !== M.opsetImport || !f.payload) continue;
    const fields = readFields(f.payload);
    const domain = stringOf(fields, O.domain) ?? '';
    if (domain === '' || domain === 'ai.onnx') version = fields.find((g) => g.field === O.version)?.value ?? version;
  }
  return version;
}

/**
 * The model with one Gather(present, [-1], axis 2) output per present.* output, or undefined
 * when its opset is too old for a negative index.
 */
export function withNewColumnOutputs(modelBytes: Uint8Array, presents: readonly string[], layout: KvLayout): Uint8Array | undefined {
  if (defaultOpset(modelBytes) < MIN_OPSET) return undefined;
  const elem = layout.type === 'float16' ? ELEM.FLOAT16 : ELEM.FLOAT;
  const graph = new ProtoWriter();
  for (const present of presents) {
    const output = newColumnOutput(present);
    graph.bytes(
      G.node,
      node({ opType: 'Gather', name: output, inputs: [present, LAST_INDEX], outputs: [output], attributes: [attr.int('axis', 2)] }),
    );
  }
  graph.bytes(G.initializer, int64Tensor(LAST_INDEX, [1], [-1n]));
  for (const present of presents)
    graph.bytes(G.output, tensorValueInfo(newColumnOutput(present), elem, [undefined, layout.heads, 1, layout.headSize]));
  const tail = new ProtoWriter().bytes(M.graph, graph.finish()).finish();
  const out = new Uint8Array(modelBytes.length + tail.length);
  out.set(modelBytes);
  out.set(tail, modelBytes.length);
  return out;
}

/**
 * Swaps `session` (transformers.js's, over `file`) for one over the same file with the new-column
 * outputs. The original goes first, so the weights are never held twice; if the extended graph
 * does not load, the plain one is opened again and the engine steps with whole present.* outputs,
 * as it does for a graph without position_ids or with its weights in an external data file.
 */
export async function openStepSession(
  session: ort.InferenceSession,
  file: string,
  options: ort.InferenceSession.SessionOptions,
  layout: KvLayout,
  toPresent: (past: string) => string,
): Promise<ort.InferenceSession> {
  const presents = layout.names.map(toPresent);
  if (!session.inputNames.includes('position_ids') || presents.some((p) => !session.outputNames.includes(p))) return session;
  // onnxruntime resolves a model's external data only beside a model it loads by path.
  if (await exists(`${file}_data`)) return session;
  const extended = withNewColumnOutputs(await readFile(file), presents, layout);
  if (!extended) return session;
  await session.release();
  try {
    return await ort.InferenceSession.create(extended, options);
  } catch {
    return ort.InferenceSession.create(file, options);
  }
}
