/** Starts real tsserve instances on 127.0.0.1 for tests, and finds the repository's fixtures. */
import { fileURLToPath } from 'node:url';
import { type RunningServer, startServer } from '../../src/app.js';
import { type TsserveOptions, parseTsserveArgs } from '../../src/tsserve-flags.js';

/** A path under the repository root (tests run from dist/test). */
export function repoPath(...parts: string[]): string {
  return fileURLToPath(new URL(`../../../${parts.join('/')}`, import.meta.url));
}

export interface TestServer {
  url: string;
  /** 127.0.0.1:port of the gRPC frontend (port 0 when --enable_grpc is false). */
  grpcAddress: string;
  server: RunningServer;
  close(): Promise<void>;
}

export async function startTestServer(modelDir: string, overrides: Partial<TsserveOptions> = {}): Promise<TestServer> {
  const { options } = parseTsserveArgs([], {});
  const server = await startServer({
    ...options,
    model_dir: modelDir,
    host: '127.0.0.1',
    http_port: 0,
    grpc_port: 0,
    log_level: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...overrides,
  });
  return {
    url: `http://127.0.0.1:${server.httpPort}`,
    grpcAddress: `127.0.0.1:${server.grpcPort ?? 0}`,
    server,
    close: () => server.close(),
  };
}

export async function getJson(url: string): Promise<{ status: number; body: any }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.json() };
}

export async function postJson(url: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** Builds a binary-extension body: JSON header then the given tensor bytes. */
export function binaryBody(header: unknown, ...parts: Uint8Array[]): { body: Uint8Array<ArrayBuffer>; headerLength: number } {
  const json = Buffer.from(JSON.stringify(header));
  const joined = Buffer.concat([json, ...parts]);
  // A fresh ArrayBuffer-backed view: fetch's BodyInit type does not take Buffer<ArrayBufferLike>.
  return { body: new Uint8Array(joined), headerLength: json.byteLength };
}

/** Splits a binary-extension response into its JSON header and binary section. */
export async function readInferResponse(res: Response): Promise<{ json: any; binary: Buffer }> {
  const buf = Buffer.from(await res.arrayBuffer());
  const h = res.headers.get('inference-header-content-length');
  const headerLength = h === null ? buf.byteLength : Number(h);
  return { json: JSON.parse(buf.subarray(0, headerLength).toString('utf8')), binary: buf.subarray(headerLength) };
}

export interface InferReply {
  status: number;
  headers: Headers;
  /** The JSON part of the body (all of it when there is no binary section). */
  text: string;
  json: any;
  binary: Buffer;
}

/** POSTs any body and splits the answer at Inference-Header-Content-Length. */
export async function postBody(url: string, body: Uint8Array | string, headers: Record<string, string> = {}): Promise<InferReply> {
  const payload = typeof body === 'string' ? body : new Uint8Array(body); // a plain copy, as fetch's BodyInit wants
  const res = await fetch(url, { method: 'POST', body: payload, headers });
  const buf = Buffer.from(await res.arrayBuffer());
  const h = res.headers.get('inference-header-content-length');
  const headerLength = h === null ? buf.byteLength : Number(h);
  const text = buf.subarray(0, headerLength).toString('utf8');
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json, binary: buf.subarray(headerLength) };
}

/** The value of one sample line of Prometheus text, or 0 when absent. */
export function metricSample(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) return Number(line.split(' ').at(-1));
  }
  return 0;
}

/** Polls /metrics until a sample reaches `value`: a wait that holds however slow the machine is. */
export async function untilMetric(baseUrl: string, name: string, labels: Record<string, string>, value: number): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const text = await (await fetch(`${baseUrl}/metrics`)).text();
    if (metricSample(text, name, labels) === value) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`${name}${JSON.stringify(labels)} never reached ${value}`);
}
