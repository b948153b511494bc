/**
 * Memory bounded before a body is read, against a real tsserve process whose RSS is read from
 * /proc from outside: requests past --max_inflight_bytes / --max_inflight_requests get 503 (REST)
 * or RESOURCE_EXHAUSTED (gRPC) at once, without their bodies being buffered; and a
 * ModelStreamInfer client that sends but never reads cannot make the server buffer answers.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { GRPC_HEADERS, grpcFrame, inferMessage, methodPath } from '../bench/grpc-wire.js';
import { type CliServer, serveCli } from './helpers/cli-process.js';
import { GrpcTestClient, assertStatus } from './helpers/grpc-client.js';
import { repoPath } from './helpers/server.js';

const MiB = 1024 * 1024;
const LIMIT = 32 * MiB;

let srv: CliServer;
let grpcAddress: string;

before(async () => {
  srv = await serveCli([
    '--model_dir',
    repoPath('test/fixtures/dtypes'),
    '--host',
    '127.0.0.1',
    '--http_port',
    '0',
    '--grpc_port',
    '0',
    '--max_inflight_bytes',
    String(LIMIT),
    '--max_inflight_requests',
    '64',
    '--grpc_stream_max_outstanding',
    '4',
    '--grpc_stream_stall_timeout',
    '2',
    '--enable_latency_logging',
    'false',
  ]);
  grpcAddress = srv.grpcAddress;
});

after(async () => {
  srv?.child.kill('SIGTERM');
  await srv?.exited;
});

function rss(): number {
  const status = readFileSync(`/proc/${srv.child.pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

/** A binary-extension FP32 [1, n] request, as tritonclient writes it. */
function fp32Request(n: number): { head: string; body: Buffer } {
  const json = Buffer.from(
    JSON.stringify({
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1, n], parameters: { binary_data_size: 4 * n } }],
      outputs: [{ name: 'y', parameters: { binary_data: true } }],
    }),
  );
  const body = Buffer.concat([json, Buffer.alloc(4 * n)]);
  const head = `POST /v2/models/fp32/infer HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${body.byteLength}\r\nInference-Header-Content-Length: ${json.byteLength}\r\n\r\n`;
  return { head, body };
}

/** Sends head and `body` over a fresh connection; resolves with the status line's code and the text. */
function exchange(head: string, body: Buffer): { socket: net.Socket; answer: Promise<{ status: number; text: string }> } {
  const socket = net.connect(Number(new URL(srv.url).port), '127.0.0.1');
  const chunks: Buffer[] = [];
  socket.on('data', (d: Buffer) => chunks.push(d));
  socket.on('error', () => {});
  const answer = new Promise<{ status: number; text: string }>((resolve) => {
    const check = () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      const length = /content-length: (\d+)/i.exec(text);
      if (end >= 0 && length && text.length >= end + 4 + Number(length[1])) resolve({ status: Number(text.slice(9, 12)), text });
    };
    socket.on('data', check);
  });
  socket.write(head);
  if (body.byteLength) socket.write(body);
  return { socket, answer };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('REST admission before the body is read', () => {
  it('with the byte limit held by slow uploads, 24 more 16 MiB requests get 503 at once and RSS stays bounded', async (t) => {
    const n = (8 * MiB - 2048) / 4;
    const held = Array.from({ length: 4 }, () => {
      const { head, body } = fp32Request(n);
      return { ...exchange(head, body.subarray(0, body.byteLength - 1)), last: body.subarray(body.byteLength - 1) };
    });
    // The four hold just under 4 x 8 MiB, the whole limit, once admitted: a 16 KiB probe is then refused.
    await until('the held uploads to be admitted', async () => {
      const { head, body } = fp32Request(4096);
      const probe = exchange(head, body);
      const { status } = await probe.answer;
      probe.socket.destroy();
      return status === 503 ? true : undefined;
    });
    const before = rss();
    let peak = before;
    let liveMax = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, rss())), 10);
    let attacking = true;
    const live = (async () => {
      while (attacking) {
        const start = Date.now();
        const res = await fetch(`${srv.url}/v2/health/live`);
        assert.equal(res.status, 200);
        await res.arrayBuffer();
        liveMax = Math.max(liveMax, Date.now() - start);
      }
    })();
    const big = fp32Request((16 * MiB) / 4);
    const attack = Array.from({ length: 24 }, () => exchange(big.head, big.body));
    const answers = await Promise.all(attack.map((a) => a.answer));
    attacking = false;
    await live;
    clearInterval(sampler);
    for (const a of attack) a.socket.destroy();
    for (const { status, text } of answers) {
      assert.equal(status, 503);
      assert.match(text, /content-type: application\/json\r\n/i);
      assert.match(text, /"error":"server is at its limit of 33554432 bytes of requests in flight \(--max_inflight_bytes/);
    }
    // 24 x 16 MiB buffered would be 384 MiB.
    assert.ok(peak - before < 128 * MiB, `RSS grew by ${((peak - before) / MiB).toFixed(0)} MiB`);
    // Liveness kept answering 200; its latency is shared with this process pumping 384 MiB, so it is reported, not held to a bound.
    t.diagnostic(`slowest /v2/health/live during the attack: ${liveMax} ms`);
    // The held uploads finish and are answered; what they held is given back.
    for (const h of held) h.socket.write(h.last);
    for (const h of held) {
      const { status } = await h.answer;
      assert.equal(status, 200);
      h.socket.destroy();
    }
    const after = fp32Request(16);
    const again = exchange(after.head, after.body);
    assert.equal((await again.answer).status, 200);
    again.socket.destroy();
  });
});

describe('gRPC admission', () => {
  it('a ModelInfer message over --max_inflight_bytes gets RESOURCE_EXHAUSTED', async () => {
    const client = new GrpcTestClient(grpcAddress);
    try {
      const n = (40 * MiB) / 4;
      const request = {
        model_name: 'fp32',
        inputs: [{ name: 'x', datatype: 'FP32', shape: [1, n] }],
        raw_input_contents: [Buffer.alloc(4 * n)],
      };
      await assertStatus(client.call('ModelInfer', request), grpc.status.RESOURCE_EXHAUSTED, /--max_inflight_bytes/);
      const small = { model_name: 'fp32', inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2] }], raw_input_contents: [Buffer.alloc(8)] };
      assert.equal((await client.call('ModelInfer', small)).outputs[0].name, 'y');
    } finally {
      client.close();
    }
  });
});

describe('ModelStreamInfer flow control', () => {
  it('a client that sends 1 MiB requests but never reads: the server stops reading, RSS stays bounded, the stream is reset after the stall timeout', async () => {
    const session = http2.connect(`http://${grpcAddress}`);
    session.on('error', () => {});
    const stream = session.request({ ':method': 'POST', ':path': methodPath('ModelStreamInfer'), ...GRPC_HEADERS });
    stream.on('error', () => {});
    stream.pause(); // never read: answers pile up on the server unless it holds back
    const closed = new Promise<number>((resolve) => stream.on('close', () => resolve(stream.rstCode)));
    const frame = grpcFrame(inferMessage('fp32', 'x', [1, MiB / 4], new Float32Array(MiB / 4)));
    const before = rss();
    let peak = before;
    let sent = 0;
    // Write 200 MiB of requests, or until the server stops taking them.
    await new Promise<void>((resolve) => {
      const pump = () => {
        while (sent < 200) {
          sent++;
          if (!stream.write(frame)) {
            const stuck = setTimeout(resolve, 1500);
            return void stream.once('drain', () => {
              clearTimeout(stuck);
              pump();
            });
          }
        }
        resolve();
      };
      pump();
    });
    peak = Math.max(peak, rss());
    assert.ok(sent < 200, 'the server kept reading a stream whose client reads nothing');
    const code = await closed;
    peak = Math.max(peak, rss());
    assert.equal(code, http2.constants.NGHTTP2_CANCEL);
    assert.ok(peak - before < 96 * MiB, `RSS grew by ${((peak - before) / MiB).toFixed(0)} MiB after ${sent} requests`);
    session.close();
  });
});
