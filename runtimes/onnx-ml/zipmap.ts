/**
 * sklearn-onnx ends classifiers with a ZipMap node whose output is a sequence of maps
 * (class label -> probability). onnxruntime-node cannot return non-tensor values ("Non tensor
 * type is temporarily not supported"), so at load the ZipMap node becomes an Identity of its
 * input, and the graph output is declared as the float tensor [N, C] the ZipMap was fed.
 * The output keeps its name (`output_probability`), and every other byte of the model is
 * copied unchanged.
 */
import { FIELDS, ELEM, node, opsetImport, tensorValueInfo } from './onnx-proto.js';
import { ProtoWriter, type RawField, readFields, stringOf, stringsOf } from './protobuf.js';

const { model: M, graph: G, node: N, valueInfo: V, attribute: A, opset: O } = FIELDS;

interface ZipMapNode {
  index: number;
  input: string;
  output: string;
  classCount?: number;
}

/** How many class labels a ZipMap declares (classlabels_int64s or classlabels_strings). */
function classCount(nodeFields: readonly RawField[]): number | undefined {
  for (const a of nodeFields.filter((f) => f.field === N.attribute && f.payload)) {
    const fields = readFields(a.payload!);
    const name = stringOf(fields, A.name);
    if (name === 'classlabels_strings') return fields.filter((f) => f.field === A.strings).length;
    if (name === 'classlabels_int64s') {
      const packed = fields.filter((f) => f.field === A.ints);
      // packed (one field of varints) or not (one field per value)
      return packed.length === 1 && packed[0]!.payload ? readVarintCount(packed[0]!.payload) : packed.length;
    }
  }
  return undefined;
}

function readVarintCount(bytes: Uint8Array): number {
  let n = 0;
  for (const b of bytes) if (b < 0x80) n++;
  return n;
}

function findZipMaps(graphFields: readonly RawField[], outputs: ReadonlySet<string>): ZipMapNode[] {
  const found: ZipMapNode[] = [];
  graphFields.forEach((f, index) => {
    if (f.field !== G.node || !f.payload) return;
    const fields = readFields(f.payload);
    if (stringOf(fields, N.opType) !== 'ZipMap') return;
    const [input] = stringsOf(fields, N.input);
    const [output] = stringsOf(fields, N.output);
    if (input === undefined || output === undefined || !outputs.has(output)) return;
    found.push({ index, input, output, classCount: classCount(fields) });
  });
  return found;
}

function valueInfoName(f: RawField): string | undefined {
  return f.payload ? stringOf(readFields(f.payload), V.name) : undefined;
}

function rewriteGraph(graphBytes: Uint8Array): Uint8Array | undefined {
  const fields = readFields(graphBytes);
  const outputNames = new Set(
    fields
      .filter((f) => f.field === G.output)
      .map(valueInfoName)
      .filter((n) => n !== undefined),
  );
  const zipMaps = findZipMaps(fields, outputNames);
  if (!zipMaps.length) return undefined;
  const byNode = new Map(zipMaps.map((z) => [z.index, z]));
  const byOutput = new Map(zipMaps.map((z) => [z.output, z]));
  const w = new ProtoWriter(graphBytes.length + 256);
  fields.forEach((f, index) => {
    const zip = byNode.get(index);
    if (zip) {
      w.bytes(G.node, node({ opType: 'Identity', name: `${zip.output}_tensor`, inputs: [zip.input], outputs: [zip.output] }));
      return;
    }
    const name = f.field === G.output || f.field === G.valueInfo ? valueInfoName(f) : undefined;
    const replaced = name === undefined ? undefined : byOutput.get(name);
    if (replaced && f.field === G.output) {
      w.bytes(G.output, tensorValueInfo(replaced.output, ELEM.FLOAT, [undefined, replaced.classCount]));
    } else if (!replaced) {
      w.raw(f.raw); // value_info entries that still declare the seq(map) type are dropped
    }
  });
  return w.finish();
}

/** Identity lives in the default domain, which an ML-only model may not import. */
function ensureDefaultOpset(fields: RawField[]): RawField[] {
  const imports = fields.filter((f) => f.field === M.opsetImport && f.payload);
  if (imports.some((f) => (stringOf(readFields(f.payload!), O.domain) ?? '') === '')) return fields;
  const raw = new ProtoWriter().bytes(M.opsetImport, opsetImport({ domain: '', version: 13 })).finish();
  return [...fields, { field: M.opsetImport, wire: 2, raw }];
}

/** The model with its ZipMap outputs turned into tensors, or undefined when it has none. */
export function stripZipMap(modelBytes: Uint8Array): Uint8Array | undefined {
  let fields = readFields(modelBytes);
  const graphField = fields.find((f) => f.field === M.graph && f.payload);
  if (!graphField) return undefined;
  const graphBytes = rewriteGraph(graphField.payload!);
  if (!graphBytes) return undefined;
  fields = ensureDefaultOpset(fields);
  const w = new ProtoWriter(modelBytes.length + 256);
  for (const f of fields) {
    if (f === graphField) w.bytes(M.graph, graphBytes);
    else w.raw(f.raw);
  }
  return w.finish();
}
