/**
 * BYTES tensors at scale, against a real tsserve process (issue 17 item 3). 8 concurrent 16 MiB
 * binary-extension bodies, each of 4 M empty BYTES elements, and one more over gRPC as
 * raw_input_contents, go to a BYTES identity model while a poller on its own thread times
 * GET /v2/health/live and reads the server's RSS and main-thread CPU from /proc. No liveness
 * answer may wait behind more than 250 ms of main-thread work (Kubernetes' probes give 1 s),
 * memory must stay bounded, every attack request must get its answer, and the server must serve
 * a normal request afterwards. Before BYTES data was one buffer, each such body took seconds
 * and ~500 MB on the main thread. Also: large BYTES JSON answers, written in chunks, are the
 * text JSON.stringify writes; datatype and shape are refused from the header, before the data.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { type CliServer, serveCli } from './helpers/cli-process.js';
import { GrpcTestClient, assertStatus } from './helpers/grpc-client.js';
import { BYTES_IDENTITY, FP32_IDENTITY, type TempRepo, tempRepo } from './helpers/model-dir.js';
import { postJson, readInferResponse } from './helpers/server.js';

const ELEMENTS = 4 * 1024 * 1024;
const MiB = 1024 * 1024;
/** The event loop must answer liveness within this, as the issue asks (Kubernetes' default probe timeout is 1 s). */
const LIVE_WITHIN_MS = 250;
/**
 * RSS growth allowed over the idle server. onnxruntime holds 4 M std::strings in and out for a
 * run, in each of the two workers, and the main thread holds up to 8 bodies and answers of
 * 16 MiB: +1.4 GiB measured. With a view per element, as before, 2 such bodies (and 1 over
 * gRPC) took +6.2 GiB, and each stalled the event loop for seconds.
 */
const RSS_GROWTH_BOUND = 2048 * MiB;
const ATTACK_DEADLINE_MS = 240_000;

let repo: TempRepo;
let srv: CliServer;
let grpcAddress: string;

before(async () => {
  repo = await tempRepo();
  await repo.copy(BYTES_IDENTITY, 'bytes/1/model.onnx');
  await repo.copy(FP32_IDENTITY, 'fp32/1/model.onnx');
  srv = await serveCli([
    '--model_dir',
    repo.dir,
    '--host',
    '127.0.0.1',
    '--http_port',
    '0',
    '--grpc_port',
    '0',
    '--max_inflight_bytes',
    String(1024 * MiB),
    '--enable_latency_logging',
    'false',
  ]);
  grpcAddress = srv.grpcAddress;
});

after(async () => {
  srv?.child.kill('SIGTERM');
  await srv?.exited;
  await repo?.remove();
});

function rss(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
}

interface PollReport {
  polls: number;
  /** The slowest liveness answer, wall clock. */
  maxLatencyMs: number;
  /** The most CPU the server's main thread used while one liveness request waited. */
  maxMainCpuMs: number;
  failures: string[];
  maxRss: number;
}

/**
 * Polls liveness and RSS on a thread of its own, so the test's own work (building and reading
 * 16 MiB bodies) cannot delay a poll and be blamed on the server. Each poll also reads the CPU
 * time of the server's main thread (/proc/<pid>/task/<pid>/stat, in 10 ms ticks): a request
 * that blocks the event loop shows as main-thread CPU spent while liveness waits, whereas wall
 * time alone also counts the moments a loaded machine gives the thread no core at all.
 */
function startPoller(url: string, pid: number): { stop: () => Promise<PollReport> } {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const { readFileSync } = require('node:fs');
    const { pid, url } = workerData;
    const rss = () => Number(/VmRSS:\\s+(\\d+) kB/.exec(readFileSync('/proc/' + pid + '/status', 'utf8'))[1]) * 1024;
    const mainCpuMs = () => {
      const fields = readFileSync('/proc/' + pid + '/task/' + pid + '/stat', 'utf8').split(') ')[1].split(' ');
      return (Number(fields[11]) + Number(fields[12])) * 10; // utime + stime, in 100 Hz ticks
    };
    let stopping = false;
    parentPort.on('message', () => (stopping = true));
    (async () => {
      const report = { polls: 0, maxLatencyMs: 0, maxMainCpuMs: 0, failures: [], maxRss: 0 };
      while (!stopping) {
        const cpu = mainCpuMs();
        const start = performance.now();
        try {
          const res = await fetch(url + '/v2/health/live', { signal: AbortSignal.timeout(5000) });
          await res.arrayBuffer();
          if (res.status !== 200) report.failures.push('status ' + res.status);
        } catch (error) {
          report.failures.push(String(error));
        }
        report.maxLatencyMs = Math.max(report.maxLatencyMs, performance.now() - start);
        report.maxMainCpuMs = Math.max(report.maxMainCpuMs, mainCpuMs() - cpu);
        report.maxRss = Math.max(report.maxRss, rss());
        report.polls++;
        await new Promise((r) => setTimeout(r, 10));
      }
      parentPort.postMessage(report);
    })();
  `;
  const worker = new Worker(code, { eval: true, workerData: { url, pid } });
  const report = new Promise<PollReport>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return {
    stop: async () => {
      worker.postMessage('stop');
      const result = await report;
      await worker.terminate();
      return result;
    },
  };
}

/** A binary-extension body: 4 M empty elements are 4 M zero length prefixes. */
function attackBody(binaryOutput: boolean): { body: Uint8Array<ArrayBuffer>; headerLength: number } {
  const header = Buffer.from(
    JSON.stringify({
      inputs: [{ name: 'x', datatype: 'BYTES', shape: [ELEMENTS, 1], parameters: { binary_data_size: 4 * ELEMENTS } }],
      outputs: [{ name: 'y', parameters: { binary_data: binaryOutput } }],
    }),
  );
  const body = new Uint8Array(header.byteLength + 4 * ELEMENTS);
  body.set(header);
  return { body, headerLength: header.byteLength };
}

async function restAttack(model: string, binaryOutput: boolean): Promise<{ status: number; json: any; binary: Buffer }> {
  const { body, headerLength } = attackBody(binaryOutput);
  const res = await fetch(`${srv.url}/v2/models/${model}/infer`, {
    method: 'POST',
    body,
    headers: { 'inference-header-content-length': String(headerLength) },
    signal: AbortSignal.timeout(ATTACK_DEADLINE_MS),
  });
  return { status: res.status, ...(await readInferResponse(res)) };
}

function grpcAttack(client: GrpcTestClient): Promise<any> {
  const request = {
    model_name: 'bytes',
    inputs: [{ name: 'x', datatype: 'BYTES', shape: [ELEMENTS, 1] }],
    raw_input_contents: [Buffer.alloc(4 * ELEMENTS)],
  };
  return new Promise((resolve, reject) => {
    client.inference.ModelInfer(
      request,
      new grpc.Metadata(),
      { deadline: Date.now() + ATTACK_DEADLINE_MS },
      (error: unknown, response: unknown) => (error ? reject(error) : resolve(response)),
    );
  });
}

function assertEmptyElements(json: any, binary: Buffer, binaryOutput: boolean): void {
  const output = json.outputs[0];
  assert.deepEqual(output.shape, [ELEMENTS, 1]);
  if (binaryOutput) {
    assert.equal(output.parameters.binary_data_size, 4 * ELEMENTS);
    assert.equal(binary.byteLength, 4 * ELEMENTS);
    assert.ok(binary.equals(Buffer.alloc(4 * ELEMENTS)), 'every element comes back empty');
  } else {
    assert.equal(output.data.length, ELEMENTS);
    assert.ok(
      output.data.every((s: string) => s === ''),
      'every element comes back empty',
    );
  }
}

describe('4 M empty BYTES elements per request do not stall the event loop', () => {
  it('8 REST bodies and 1 gRPC message of 16 MiB: liveness within 250 ms, RSS bounded, all answered', async (t) => {
    const idle = rss(srv.child.pid!);
    const poller = startPoller(srv.url, srv.child.pid!);
    const client = new GrpcTestClient(grpcAddress);
    let report: PollReport;
    try {
      const [rest, viaGrpc, refused] = await Promise.all([
        Promise.all(Array.from({ length: 8 }, (_, i) => restAttack('bytes', i % 2 === 0))),
        grpcAttack(client),
        // An FP32 model refuses BYTES from the header, before the data is looked at.
        restAttack('fp32', true),
      ]);
      rest.forEach((r, i) => {
        assert.equal(r.status, 200, r.json.error);
        assertEmptyElements(r.json, r.binary, i % 2 === 0);
      });
      assert.deepEqual(viaGrpc.outputs[0].shape.map(Number), [ELEMENTS, 1]);
      assert.equal(viaGrpc.raw_output_contents[0].byteLength, 4 * ELEMENTS);
      assert.equal(refused.status, 400);
      assert.equal(refused.json.error, "inference input 'x' data-type is 'BYTES', but model 'fp32' expects 'FP32'");
    } finally {
      report = await poller.stop();
      client.close();
    }
    const growth = report.maxRss - idle;
    t.diagnostic(
      `${report.polls} liveness polls: slowest ${report.maxLatencyMs.toFixed(0)} ms wall clock, at most ${report.maxMainCpuMs} ms of ` +
        `main-thread CPU while one waited; RSS ${(idle / MiB).toFixed(0)} MiB idle, +${(growth / MiB).toFixed(0)} MiB at peak`,
    );
    assert.deepEqual(report.failures, []);
    assert.ok(report.polls >= 10, `the poller ran through the attack (${report.polls} polls)`);
    // The event loop answered liveness each time within 250 ms of its own work; the wall-clock
    // figure adds whatever time the shared machine gave the thread no core.
    assert.ok(
      report.maxMainCpuMs <= LIVE_WITHIN_MS,
      `no liveness request waited behind more than ${LIVE_WITHIN_MS} ms of main-thread work: at most ${report.maxMainCpuMs} ms ` +
        `(slowest answer ${report.maxLatencyMs.toFixed(0)} ms wall clock, of ${report.polls} polls)`,
    );
    assert.ok(growth <= RSS_GROWTH_BOUND, `RSS grew by ${(growth / MiB).toFixed(0)} MiB (bound ${RSS_GROWTH_BOUND / MiB} MiB)`);

    const normal = await postJson(`${srv.url}/v2/models/bytes/infer`, {
      inputs: [{ name: 'x', datatype: 'BYTES', shape: [2, 1], data: ['a', 'ü'] }],
    });
    assert.equal(normal.status, 200);
    assert.deepEqual(normal.body.outputs[0].data, ['a', 'ü']);
  });
});

describe('large BYTES answers in JSON', () => {
  it('are written in chunks byte for byte as JSON.stringify writes them', async () => {
    const samples = [
      '',
      'plain',
      'quote " and \\ backslash',
      'line\nfeed\ttab\r\b\f',
      '\u0001\u001f\u007f',
      'ü wörld',
      '😀 emoji',
      'a'.repeat(300),
    ];
    // ~2 MiB of JSON: several of the encoder's chunks, with escapes and multi-byte text across their edges.
    const strings = Array.from({ length: 40_000 }, (_, i) => `${samples[i % samples.length]}${i}`);
    const raw = Buffer.concat(
      strings.flatMap((s) => {
        const bytes = Buffer.from(s);
        const length = Buffer.alloc(4);
        length.writeUInt32LE(bytes.byteLength);
        return [length, bytes];
      }),
    );
    const header = Buffer.from(
      JSON.stringify({
        inputs: [{ name: 'x', datatype: 'BYTES', shape: [strings.length, 1], parameters: { binary_data_size: raw.byteLength } }],
      }),
    );
    const res = await fetch(`${srv.url}/v2/models/bytes/infer`, {
      method: 'POST',
      body: new Uint8Array(Buffer.concat([header, raw])),
      headers: { 'inference-header-content-length': String(header.byteLength) },
    });
    const text = await res.text();
    assert.equal(res.status, 200, text);
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.equal(Number(res.headers.get('content-length')), Buffer.byteLength(text));
    const json = JSON.parse(text);
    assert.deepEqual(json.outputs[0].data, strings);
    assert.ok(text.includes(`"data":${JSON.stringify(strings)}}`), 'the data is the text JSON.stringify writes');
  });
});

describe('datatype and shape are checked against the model before the data is decoded', () => {
  // Length prefixes that point past the end: decoding them would fail with "declares ... bytes".
  const garbage = Buffer.from([0xff, 0xff, 0xff, 0x7f, 0x61]);

  it('REST binary: BYTES to an FP32 input, and a shape the input cannot take, named before the data is read', async () => {
    const send = async (model: string, shape: number[]) => {
      const header = Buffer.from(
        JSON.stringify({ inputs: [{ name: 'x', datatype: 'BYTES', shape, parameters: { binary_data_size: garbage.byteLength } }] }),
      );
      const res = await fetch(`${srv.url}/v2/models/${model}/infer`, {
        method: 'POST',
        body: new Uint8Array(Buffer.concat([header, garbage])),
        headers: { 'inference-header-content-length': String(header.byteLength) },
      });
      return { status: res.status, error: ((await res.json()) as { error: string }).error };
    };
    assert.deepEqual(await send('fp32', [1, 1]), {
      status: 400,
      error: "inference input 'x' data-type is 'BYTES', but model 'fp32' expects 'FP32'",
    });
    assert.deepEqual(await send('bytes', [1]), {
      status: 400,
      error: "unexpected shape for input 'x' for model 'bytes'. Expected [-1,-1], got [1]",
    });
    assert.match((await send('bytes', [1, 1])).error, /BYTES element 0 declares 2147483647 bytes/);
  });

  it('gRPC raw_input_contents: the same, INVALID_ARGUMENT with the same messages', async () => {
    const client = new GrpcTestClient(grpcAddress);
    try {
      const send = (model: string, shape: number[]) =>
        client.call('ModelInfer', { model_name: model, inputs: [{ name: 'x', datatype: 'BYTES', shape }], raw_input_contents: [garbage] });
      await assertStatus(
        send('fp32', [1, 1]),
        grpc.status.INVALID_ARGUMENT,
        /^inference input 'x' data-type is 'BYTES', but model 'fp32' expects 'FP32'$/,
      );
      await assertStatus(
        send('bytes', [1]),
        grpc.status.INVALID_ARGUMENT,
        /^unexpected shape for input 'x' for model 'bytes'\. Expected \[-1,-1\], got \[1\]$/,
      );
      await assertStatus(send('bytes', [1, 1]), grpc.status.INVALID_ARGUMENT, /BYTES element 0 declares 2147483647 bytes/);
    } finally {
      client.close();
    }
  });
});
