/**
 * The gRPC load generator of bench/run.ts, run as a process of its own:
 *
 *   node dist/bench/grpc-load.js ADDRESS SPEC_JSON CONCURRENCY WARMUP_SECONDS SECONDS
 *
 * SPEC_JSON is {"model": M, "input": NAME, "rows": [[...], ...]} (batch-1 FP32 rows, cycled)
 * or {"model": M, "input": NAME, "big": true} (the 4 MiB FP32 tensor of bench/payload.ts), and
 * optionally "stream": true. Unary: CONCURRENCY loops each keep one ModelInfer call in flight
 * on one HTTP/2 connection (as tritonclient and perf_analyzer use one channel). Stream: one
 * ModelStreamInfer call with CONCURRENCY requests in flight, the next sent as each answer
 * arrives (tritonclient's start_stream, perf_analyzer --streaming). It discards
 * WARMUP_SECONDS, then times SECONDS. Prints {"latenciesMs": [...], "seconds": S, "errors": N}.
 *
 * It speaks gRPC's wire format on node:http2 itself (a POST per call, the 5-byte
 * length-prefixed message, grpc-status in the trailers) rather than through @grpc/grpc-js's
 * client, which spends about five times autocannon's CPU per call (measured here: ~220 us vs
 * ~40 us); on a small machine that CPU is taken from the server being measured. The request
 * messages are encoded once, from the server's proto, and responses are checked for
 * grpc-status 0 but not decoded, as autocannon sends prebuilt bodies and does not parse them.
 */
import * as http2 from 'node:http2';
import * as net from 'node:net';
import { GRPC_HEADERS, grpcFrame, inferMessage, methodPath } from './grpc-wire.js';
import { TENSOR_SHAPE, bigTensor } from './payload.js';

interface Spec {
  model: string;
  input: string;
  rows?: number[][];
  big?: boolean;
  stream?: boolean;
  /** One synthetic FP32 tensor of this shape (values in [0, 1)), e.g. an image batch. */
  shape?: number[];
}

function synthetic(shape: number[]): Float32Array {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = ((i * 2654435761) % 1000) / 1000;
  return data;
}

interface Result {
  latenciesMs: number[];
  seconds: number;
  errors: number;
  lastError?: string;
}

const [address, specJson, concurrencyArg, warmupArg, secondsArg] = process.argv.slice(2);
if (!address || !specJson || !concurrencyArg || !warmupArg || !secondsArg) {
  process.stderr.write('usage: node dist/bench/grpc-load.js ADDRESS SPEC_JSON CONCURRENCY WARMUP_SECONDS SECONDS\n');
  process.exit(2);
}

const spec = JSON.parse(specJson) as Spec;
const framed = (shape: number[], data: Float32Array) => grpcFrame(inferMessage(spec.model, spec.input, shape, data));

const requests = spec.big
  ? [framed(TENSOR_SHAPE, bigTensor())]
  : spec.shape
    ? [framed(spec.shape, synthetic(spec.shape))]
    : spec.rows!.map((r) => framed([1, r.length], Float32Array.from(r)));
// Large flow-control windows on the client's side, as gRPC's C core reaches by BDP probing;
// node:http2's default 64 KiB would make a 4 MiB answer wait on dozens of window updates.
const WINDOW = 2 ** 31 - 1;
// gRPC's own clients (C core, grpc-js) turn Nagle off; with it on, a call's HEADERS and DATA
// frames, written apart, can wait on the server's delayed ACK.
const noDelaySocket = () => {
  const colon = address.lastIndexOf(':');
  return net.connect({ host: address.slice(0, colon).replace(/^\[|\]$/g, ''), port: Number(address.slice(colon + 1)), noDelay: true });
};
const session = http2.connect(`http://${address}`, { settings: { initialWindowSize: WINDOW }, createConnection: noDelaySocket });
session.once('connect', () => session.setLocalWindowSize(WINDOW));
session.on('error', (error) => {
  process.stderr.write(`grpc-load: ${error.message}\n`);
  process.exit(1);
});
const headers = { ':method': 'POST', ':path': methodPath(spec.stream ? 'ModelStreamInfer' : 'ModelInfer'), ...GRPC_HEADERS };

function once(body: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const stream = session.request(headers);
    // A trailers-only answer (an error before any message) carries grpc-status in its headers.
    let status: unknown;
    let message: unknown;
    const read = (h: http2.IncomingHttpHeaders) => {
      status ??= h['grpc-status'];
      message ??= h['grpc-message'];
    };
    stream.on('response', read);
    stream.on('trailers', read);
    stream.on('data', () => {});
    stream.on('end', () => {
      if (status === '0') resolve(Number(process.hrtime.bigint() - t0) / 1e6);
      else reject(new Error(`grpc-status ${String(status)}: ${decodeURIComponent(String(message ?? ''))}`));
    });
    stream.on('error', reject);
    stream.end(body);
  });
}

async function runUnary(seconds: number, concurrency: number): Promise<Result> {
  const latenciesMs: number[] = [];
  let errors = 0;
  let lastError: string | undefined;
  const start = process.hrtime.bigint();
  const end = start + BigInt(Math.round(seconds * 1e9));
  const loop = async (offset: number) => {
    for (let i = offset; process.hrtime.bigint() < end; i++) {
      try {
        latenciesMs.push(await once(requests[i % requests.length]!));
      } catch (error) {
        errors++;
        lastError = (error as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, k) => loop(k)));
  return { latenciesMs, seconds: Number(process.hrtime.bigint() - start) / 1e9, errors, lastError };
}

/**
 * One ModelStreamInfer call for the warmup and the measurement both. Answers come in request
 * order (the server's rule), so each answer belongs to the oldest request unanswered. An answer
 * that starts with field 1 (tag 0x0a) carries an error_message; a success carries only field 2.
 */
function runStream(warmup: number, seconds: number, concurrency: number): Promise<Result> {
  return new Promise((resolve, reject) => {
    const stream = session.request(headers);
    const sentAt: bigint[] = [];
    const latenciesMs: number[] = [];
    let errors = 0;
    let next = 0;
    let measureFrom = 0n;
    let stopAt = 0n;
    let pending: Buffer = Buffer.alloc(0);
    const send = () => {
      sentAt.push(process.hrtime.bigint());
      stream.write(requests[next++ % requests.length]!);
    };
    const answered = (message: Buffer) => {
      const now = process.hrtime.bigint();
      const t0 = sentAt.shift()!;
      if (t0 >= measureFrom && now <= stopAt) {
        if (message[0] === 0x0a) errors++;
        else latenciesMs.push(Number(now - t0) / 1e6);
      }
      if (now < stopAt) send();
      else if (!sentAt.length) stream.end();
    };
    stream.on('data', (chunk: Buffer) => {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      while (pending.length >= 5 && pending.length >= 5 + pending.readUInt32BE(1)) {
        const length = pending.readUInt32BE(1);
        answered(pending.subarray(5, 5 + length));
        pending = pending.subarray(5 + length);
      }
    });
    stream.on('trailers', (t) => {
      if (t['grpc-status'] !== '0')
        reject(new Error(`stream ended with grpc-status ${String(t['grpc-status'])}: ${String(t['grpc-message'])}`));
    });
    stream.on('error', reject);
    stream.on('end', () => resolve({ latenciesMs, seconds, errors }));
    const start = process.hrtime.bigint();
    measureFrom = start + BigInt(Math.round(warmup * 1e9));
    stopAt = measureFrom + BigInt(Math.round(seconds * 1e9));
    for (let k = 0; k < concurrency; k++) send();
  });
}

try {
  const [concurrency, warmup, seconds] = [Number(concurrencyArg), Number(warmupArg), Number(secondsArg)];
  let result: Result;
  if (spec.stream) {
    result = await runStream(warmup, seconds, concurrency);
  } else {
    await runUnary(warmup, concurrency);
    result = await runUnary(seconds, concurrency);
  }
  process.stdout.write(JSON.stringify(result));
} finally {
  session.close();
}
