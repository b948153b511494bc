/**
 * The session of a decoder-only model's graph, as the generation engine steps with it: the
 * model's own graph plus, for each present.* output, a small output holding just the column
 * that the run added.
 *
 * Why: onnxruntime-node copies every output it returns into a new, zero-filled JS buffer. A step
 * that fetches the whole present.* outputs copies the running batch's entire K/V each time
 * (~50 MB at batch 16 on gpt2-small), and the allocator's page faults and V8's marking of that
 * garbage come on top. Fetching only the new columns and writing them in place into a K/V
 * buffer that has room to grow (kv-slots.ts) leaves onnxruntime's own Concat as the only copy.
 * In-process on gpt2-small, batch 16, 40 cached tokens: 31.0 -> 24.6 ms a step.
 *
 * Where the graph runs attention with onnxruntime's GroupQueryAttention operator (onnx-community's
 * q4/q4f16 exports, onnxruntime-genai's builder), the past is read differently: each row's tokens
 * are its first sum(attention_mask) - 1 columns, whatever the mask says of each column, and the
 * operator writes the new token's K/V right after them rather than in the last column. So the
 * engine keeps each row's tokens leading (kv-slots.ts does already), pads prompts on the right,
 * and the new column is gathered at each row's own length, which it feeds.
 *
 * The extra nodes go into a second GraphProto field appended to the model's bytes. Protobuf
 * parsers merge repeated occurrences of a message field (repeated members are appended), so
 * the model's own bytes are neither decoded nor rewritten, whatever they hold. The engine opens
 * this session itself rather than through transformers.js, so the weights are loaded once.
 */
import { open, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { ELEM, FIELDS, attr, int64Tensor, node, tensorValueInfo } from '../../onnx-ml/onnx-proto.js';
import { ProtoWriter, type RawField, readFields, stringOf } from '../../onnx-ml/protobuf.js';

const { model: M, graph: G, node: N, opset: O, valueInfo: V, type: T, tensorType: TT } = FIELDS;

/** The output that holds the newest column of a present.* output. */
export const newColumnOutput = (present: string) => `tsserve.new_column.${present}`;

const LAST_INDEX = 'tsserve.new_column.last';
/**
 * The input a GroupQueryAttention graph's new columns are gathered by: [rows, heads, 1, head size],
 * each row's entries its token count before the step (where the operator wrote the new token).
 * Every run feeds it (onnxruntime-node cannot feed an input that has a default).
 */
export const NEW_COLUMN_INDEX = 'tsserve.new_column.index';

/**
 * Where each row's tokens sit in the past a graph takes: `masked`, in whichever columns the
 * attention mask marks (plain ONNX attention); `leading`, in the first sum(mask) - 1 columns
 * (GroupQueryAttention).
 */
export type PastTokens = 'masked' | 'leading';

/** A decoder-only model's graph as the engine opened it. */
export interface CausalGraph {
  session: ort.InferenceSession;
  pastTokens: PastTokens;
}
/** Gather takes negative indices from opset 11 on. */
const MIN_OPSET = 11;
/** Bytes read past the model for the appended graph: a few hundred per present output. */
const TAIL_ROOM = 1 << 20;

interface Signature {
  opset: number;
  /** Input names and ONNX element types. */
  inputs: Map<string, number>;
  outputs: Set<string>;
  pastTokens: PastTokens;
}

function valueInfo(f: RawField): [string, number] {
  const fields = readFields(f.payload!);
  const type = fields.find((g) => g.field === V.type && g.payload);
  const tensor = type && readFields(type.payload!).find((g) => g.field === T.tensorType && g.payload);
  const elem = tensor ? (readFields(tensor.payload!).find((g) => g.field === TT.elemType)?.value ?? 0) : 0;
  return [stringOf(fields, V.name) ?? '', elem];
}

function opType(f: RawField): string | undefined {
  return stringOf(readFields(f.payload!), N.opType);
}

/** The graph's inputs, outputs, default-domain opset and attention kind, read without decoding the rest. */
function signature(modelBytes: Uint8Array): Signature {
  const sig: Signature = { opset: 0, inputs: new Map(), outputs: new Set(), pastTokens: 'masked' };
  for (const f of readFields(modelBytes)) {
    if (!f.payload) continue;
    if (f.field === M.opsetImport) {
      const fields = readFields(f.payload);
      const domain = stringOf(fields, O.domain) ?? '';
      if (domain === '' || domain === 'ai.onnx') sig.opset = fields.find((g) => g.field === O.version)?.value ?? sig.opset;
    } else if (f.field === M.graph) {
      for (const g of readFields(f.payload)) {
        if (g.field === G.input && g.payload) sig.inputs.set(...valueInfo(g));
        if (g.field === G.output && g.payload) sig.outputs.add(valueInfo(g)[0]);
        if (g.field === G.node && g.payload && opType(g) === 'GroupQueryAttention') sig.pastTokens = 'leading';
      }
    }
  }
  return sig;
}

/**
 * The graph to append for a causal decoder: per present.* output, its new column as an output,
 * Gather(present, [-1], axis 2), or for GroupQueryAttention GatherElements(present,
 * NEW_COLUMN_INDEX, axis 2). Undefined where the engine could not step in place: no past/present
 * pairs, an opset too old for a negative index, or plain attention without position_ids (the
 * graph would count the free columns as positions).
 */
function newColumnGraph(sig: Signature): Uint8Array | undefined {
  const pasts = [...sig.inputs.keys()].filter((n) => n.startsWith('past_key_values.'));
  const presents = pasts.map((n) => n.replace('past_key_values', 'present'));
  const leading = sig.pastTokens === 'leading';
  if (sig.opset < MIN_OPSET || !(leading || sig.inputs.has('position_ids')) || !pasts.length || presents.some((p) => !sig.outputs.has(p))) {
    return undefined;
  }
  const elem = sig.inputs.get(pasts[0]!) === ELEM.FLOAT16 ? ELEM.FLOAT16 : ELEM.FLOAT;
  const graph = new ProtoWriter();
  for (const present of presents) {
    const output = newColumnOutput(present);
    const gather = leading
      ? node({
          opType: 'GatherElements',
          name: output,
          inputs: [present, NEW_COLUMN_INDEX],
          outputs: [output],
          attributes: [attr.int('axis', 2)],
        })
      : node({ opType: 'Gather', name: output, inputs: [present, LAST_INDEX], outputs: [output], attributes: [attr.int('axis', 2)] });
    graph.bytes(G.node, gather);
  }
  if (leading) graph.bytes(G.input, tensorValueInfo(NEW_COLUMN_INDEX, ELEM.INT64, ['batch_size', 'heads', 1, 'head_size']));
  else graph.bytes(G.initializer, int64Tensor(LAST_INDEX, [1], [-1n]));
  for (const present of presents) graph.bytes(G.output, tensorValueInfo(newColumnOutput(present), elem));
  return new ProtoWriter().bytes(M.graph, graph.finish()).finish();
}

/** The model's bytes followed by the new-column graph, or undefined where there is none. */
export function withNewColumnOutputs(modelBytes: Uint8Array): Uint8Array | undefined {
  const tail = newColumnGraph(signature(modelBytes));
  if (!tail) return undefined;
  const out = new Uint8Array(modelBytes.length + tail.length);
  out.set(modelBytes);
  out.set(tail, modelBytes.length);
  return out;
}

/**
 * Opens a decoder-only model's graph for the engine: extended with the new-column outputs where
 * it can be, else as it is (the engine then steps with whole present.* outputs). Weights in an
 * external data file are read from beside the model: onnxruntime is told the folder, since it
 * loads the graph from memory.
 */
export async function openCausalDecoder(file: string, options: ort.InferenceSession.SessionOptions): Promise<CausalGraph> {
  // One buffer for the model and the graph appended to it, so the weights are in JS memory once.
  const size = (await stat(file)).size;
  const memory = new ArrayBuffer(size + TAIL_ROOM);
  const buffer = new Uint8Array(memory);
  const handle = await open(file);
  try {
    for (let at = 0; at < size;) {
      const { bytesRead } = await handle.read(buffer, at, size - at, at);
      if (!bytesRead) throw new Error(`${file} ended after ${at} of ${size} bytes`);
      at += bytesRead;
    }
  } finally {
    await handle.close();
  }
  const model = buffer.subarray(0, size);
  const sig = signature(model);
  const tail = newColumnGraph(sig);
  const fromMemory = withExternalDataFolder(options, dirname(file));
  let session: ort.InferenceSession | undefined;
  if (tail && tail.length <= TAIL_ROOM) {
    buffer.set(tail, size);
    // Should onnxruntime refuse the extended graph, the model still loads as it is.
    session = await ort.InferenceSession.create(buffer.subarray(0, size + tail.length), fromMemory).catch(() => undefined);
  }
  release(memory);
  return { session: session ?? (await ort.InferenceSession.create(file, options)), pastTokens: sig.pastTokens };
}

/** Session options under which a graph loaded from memory finds its external data files in `folder`. */
function withExternalDataFolder(options: ort.InferenceSession.SessionOptions, folder: string): ort.InferenceSession.SessionOptions {
  const extra = (options.extra ?? {}) as { session?: Record<string, string> };
  return { ...options, extra: { ...extra, session: { ...extra.session, model_external_initializers_file_folder_path: folder } } };
}

/**
 * Frees a buffer's memory now. A model-sized buffer would otherwise stay in the process until
 * V8's next full collection, which an idle worker may not run for a long while (gpt2-small: RSS
 * 1074 against 724 MB after load). Transferred to a port that is closed with the message unread,
 * its memory goes with the message.
 */
function release(memory: ArrayBuffer): void {
  const { port1, port2 } = new MessageChannel();
  port1.postMessage(null, [memory]);
  port1.close();
  port2.close();
}
