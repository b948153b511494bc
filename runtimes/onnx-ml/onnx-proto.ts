/**
 * The subset of onnx.proto that tsserve writes, as encoders. Field numbers are the ONNX
 * specification's (onnx/onnx.proto, IR version 8); messages and fields not listed are never
 * written. Each encoder returns the message's bytes, to nest with ProtoWriter.bytes.
 */
import { ProtoWriter } from './protobuf.js';

/** TensorProto.DataType values. */
export const ELEM = { FLOAT: 1, INT64: 7, STRING: 8, FLOAT16: 10, DOUBLE: 11 } as const;
export type ElemType = (typeof ELEM)[keyof typeof ELEM];

/** AttributeProto.AttributeType values. */
const ATTR = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7, STRINGS: 8 } as const;

const F = {
  model: { irVersion: 1, producerName: 2, producerVersion: 3, graph: 7, opsetImport: 8 },
  opset: { domain: 1, version: 2 },
  graph: { node: 1, name: 2, initializer: 5, input: 11, output: 12, valueInfo: 13 },
  node: { input: 1, output: 2, name: 3, opType: 4, attribute: 5, domain: 7 },
  attribute: { name: 1, f: 2, i: 3, s: 4, t: 5, floats: 7, ints: 8, strings: 9, type: 20 },
  valueInfo: { name: 1, type: 2 },
  type: { tensorType: 1 },
  tensorType: { elemType: 1, shape: 2 },
  shape: { dim: 1 },
  dim: { value: 1, param: 2 },
  tensor: { dims: 1, dataType: 2, name: 8, rawData: 9 },
} as const;

export type Attribute = Uint8Array;

function attribute(name: string, type: number, write: (w: ProtoWriter) => void): Attribute {
  const w = new ProtoWriter().string(F.attribute.name, name).int(F.attribute.type, type);
  write(w);
  return w.finish();
}

export const attr = {
  int: (name: string, v: number) => attribute(name, ATTR.INT, (w) => w.int(F.attribute.i, v)),
  float: (name: string, v: number) => attribute(name, ATTR.FLOAT, (w) => w.float(F.attribute.f, v)),
  string: (name: string, v: string) => attribute(name, ATTR.STRING, (w) => w.string(F.attribute.s, v)),
  ints: (name: string, v: ArrayLike<number>) => attribute(name, ATTR.INTS, (w) => w.packedVarints(F.attribute.ints, v)),
  floats: (name: string, v: ArrayLike<number>) => attribute(name, ATTR.FLOATS, (w) => w.packedFloats(F.attribute.floats, v)),
  strings: (name: string, v: readonly string[]) =>
    attribute(name, ATTR.STRINGS, (w) => {
      // node modes: a hundred thousand copies of three strings, each encoded once
      const encoded = new Map<string, Uint8Array>();
      for (const s of v) {
        let bytes = encoded.get(s);
        if (!bytes) encoded.set(s, (bytes = new TextEncoder().encode(s)));
        w.bytes(F.attribute.strings, bytes);
      }
    }),
  /** A 1-D double tensor, for the `*_as_tensor` attributes that keep float64 precision. */
  doubles: (name: string, v: ArrayLike<number>) =>
    attribute(name, ATTR.TENSOR, (w) => w.bytes(F.attribute.t, doubleTensor(Float64Array.from(v)))),
};

function doubleTensor(values: Float64Array): Uint8Array {
  return new ProtoWriter(values.byteLength + 16)
    .int(F.tensor.dims, values.length)
    .int(F.tensor.dataType, ELEM.DOUBLE)
    .bytes(F.tensor.rawData, new Uint8Array(values.buffer, values.byteOffset, values.byteLength))
    .finish();
}

/** A named int64 tensor, for an initializer. */
export function int64Tensor(name: string, dims: readonly number[], values: readonly bigint[]): Uint8Array {
  const w = new ProtoWriter();
  for (const d of dims) w.int(F.tensor.dims, d);
  const data = BigInt64Array.from(values);
  return w.int(F.tensor.dataType, ELEM.INT64).string(F.tensor.name, name).bytes(F.tensor.rawData, new Uint8Array(data.buffer)).finish();
}

export interface NodeSpec {
  opType: string;
  domain?: string;
  name?: string;
  inputs: readonly string[];
  outputs: readonly string[];
  attributes?: readonly Attribute[];
}

export function node(spec: NodeSpec): Uint8Array {
  const w = new ProtoWriter();
  for (const i of spec.inputs) w.string(F.node.input, i);
  for (const o of spec.outputs) w.string(F.node.output, o);
  if (spec.name) w.string(F.node.name, spec.name);
  w.string(F.node.opType, spec.opType);
  for (const a of spec.attributes ?? []) w.bytes(F.node.attribute, a);
  if (spec.domain) w.string(F.node.domain, spec.domain);
  return w.finish();
}

/** A dimension: a fixed size, a symbolic name, or undefined for unknown. */
export type Dim = number | string | undefined;

/** A tensor's name and type; without `dims`, its shape is left unstated (unknown rank). */
export function tensorValueInfo(name: string, elemType: ElemType, dims?: readonly Dim[]): Uint8Array {
  const tensorType = new ProtoWriter().int(F.tensorType.elemType, elemType);
  if (dims) {
    const shape = new ProtoWriter();
    for (const d of dims) {
      const dim = new ProtoWriter();
      if (typeof d === 'number') dim.int(F.dim.value, d);
      else if (typeof d === 'string') dim.string(F.dim.param, d);
      shape.bytes(F.shape.dim, dim.finish());
    }
    tensorType.bytes(F.tensorType.shape, shape.finish());
  }
  const type = new ProtoWriter().bytes(F.type.tensorType, tensorType.finish());
  return new ProtoWriter().string(F.valueInfo.name, name).bytes(F.valueInfo.type, type.finish()).finish();
}

export interface GraphSpec {
  name: string;
  nodes: readonly Uint8Array[];
  inputs: readonly Uint8Array[];
  outputs: readonly Uint8Array[];
}

export function graph(spec: GraphSpec): Uint8Array {
  const w = new ProtoWriter(spec.nodes.reduce((n, b) => n + b.length + 8, 256));
  for (const n of spec.nodes) w.bytes(F.graph.node, n);
  w.string(F.graph.name, spec.name);
  for (const i of spec.inputs) w.bytes(F.graph.input, i);
  for (const o of spec.outputs) w.bytes(F.graph.output, o);
  return w.finish();
}

export interface Opset {
  domain: string;
  version: number;
}

export function opsetImport(opset: Opset): Uint8Array {
  return new ProtoWriter().string(F.opset.domain, opset.domain).int(F.opset.version, opset.version).finish();
}

export function model(graphBytes: Uint8Array, opsets: readonly Opset[]): Uint8Array {
  const w = new ProtoWriter(graphBytes.length + 256).int(F.model.irVersion, 8).string(F.model.producerName, 'tsserve');
  for (const o of opsets) w.bytes(F.model.opsetImport, opsetImport(o));
  return w.bytes(F.model.graph, graphBytes).finish();
}

/** Field numbers the ZipMap rewrite reads. */
export const FIELDS = F;
