/**
 * tsserve as the `main` container of KServe's LLMInferenceService (llm-d): the flags KServe's
 * template passes to vLLM (--port, --served-model-name with two names, --ssl-certfile/keyfile),
 * GET /health, the OpenAI routes at the root beside the prefixed ones, every served name
 * answering, and HTTPS (and gRPC over TLS) from a certificate and key file, all over real sockets
 * with the committed tiny-gpt2 fixture.
 *
 * The certificate is test/fixtures/tls (self-signed for 127.0.0.1, made by
 * scripts/fixtures/make-tls-cert.sh with openssl): node:crypto can make keys but not certificates,
 * so the reload test makes its second certificate with openssl, and is skipped without it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { X509Certificate, generateKeyPairSync } from 'node:crypto';
import { copyFileSync, readFileSync, renameSync } from 'node:fs';
import { connect as tlsConnect } from 'node:tls';
import { request as httpsRequest } from 'node:https';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { startServer } from '../src/app.js';
import { CliError, parseArgs } from '../src/config/cli-args.js';
import { parseTsserveArgs } from '../src/tsserve-flags.js';
import { GrpcTestClient } from './helpers/grpc-client.js';
import { HF, copyHfModel, gpt2Expected, post } from './helpers/hf.js';
import { type TempRepo, tempRepo } from './helpers/model-dir.js';
import { type TestServer, getJson, repoPath, startTestServer } from './helpers/server.js';

const NAME = 'tiny';
const PUBLISHED = 'publishers/models-ns/models/tiny';
const greedy = gpt2Expected.prompts[0]!;
const chat = gpt2Expected.chat;
const CERT_FILE = repoPath('test/fixtures/tls/cert.pem');
const KEY_FILE = repoPath('test/fixtures/tls/key.pem');

/** What KServe's config-llm-template.yaml appends after `vllm serve /mnt/models` with TLS on. */
const TEMPLATE_ARGS = [
  '--served-model-name',
  NAME,
  PUBLISHED,
  '--port',
  '8000',
  '--disable-uvicorn-access-log',
  '--enable-ssl-refresh',
  '--ssl-certfile',
  '/var/run/kserve/tls/tls.crt',
  '--ssl-keyfile',
  '/var/run/kserve/tls/tls.key',
];

describe("the flags of KServe's LLMInferenceService template", () => {
  it('read as vLLM reads them: --port, two names after one --served-model-name, the TLS files and their refresh', () => {
    const { options, ignored } = parseArgs(TEMPLATE_ARGS, {});
    assert.equal(options.http_port, 8000);
    assert.deepEqual(options.served_model_name, [NAME, PUBLISHED]);
    assert.equal(options.model_name, NAME, 'the first served name names the model, as in vLLM');
    assert.equal(options.ssl_certfile, '/var/run/kserve/tls/tls.crt');
    assert.equal(options.ssl_keyfile, '/var/run/kserve/tls/tls.key');
    assert.equal(options.enable_ssl_refresh, true);
    assert.deepEqual(ignored, ['--disable-uvicorn-access-log']);
  });

  it('add names when --served_model_name is repeated, take them comma-separated from the environment, and keep an explicit --model_name', () => {
    assert.deepEqual(parseArgs(['--served_model_name=a', '--served_model_name', 'b', 'c'], {}).options.served_model_name, ['a', 'b', 'c']);
    const fromEnv = parseArgs([], { TSSERVE_SERVED_MODEL_NAME: 'x, y' }).options;
    assert.deepEqual([fromEnv.served_model_name, fromEnv.model_name], [['x', 'y'], 'x']);
    assert.deepEqual(parseArgs(['--served_model_name', 'z'], { TSSERVE_SERVED_MODEL_NAME: 'x' }).options.served_model_name, ['z']);
    assert.equal(parseArgs(['--model_name', 'm', '--served_model_name', 'a'], {}).options.model_name, 'm');
    assert.equal(parseArgs([], {}).options.model_name, 'model');
    assert.throws(
      () => parseArgs(['--served_model_name', '--port', '1'], {}),
      (e: Error) => e instanceof CliError && /--served_model_name needs a value/.test(e.message),
    );
  });
});

describe('GET /health, the OpenAI routes at the root, and every served name', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer(repoPath(HF.gpt2), { served_model_name: [NAME, PUBLISHED], model_name: NAME });
  });
  after(() => srv.close());

  it('answers /health with 200 and an empty body, as vLLM does', async () => {
    const res = await fetch(`${srv.url}/health`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), '');
  });

  it('lists every served name at /v1/models (OpenAI shape) beside the KServe V1 list, and under the prefix', async () => {
    const root = await getJson(`${srv.url}/v1/models`);
    assert.equal(root.status, 200);
    assert.deepEqual(root.body.models, [NAME]);
    assert.equal(root.body.object, 'list');
    assert.deepEqual(
      root.body.data.map((m: any) => [m.id, m.object, m.root]),
      [
        [NAME, 'model', NAME],
        [PUBLISHED, 'model', NAME],
      ],
    );
    assert.deepEqual((await getJson(`${srv.url}/openai/v1/models`)).body, { object: 'list', data: root.body.data });
    const one = await getJson(`${srv.url}/v1/models/${NAME}`);
    assert.deepEqual([one.status, one.body.name, one.body.ready, one.body.id, one.body.object], [200, NAME, true, NAME, 'model']);
  });

  for (const [where, path] of [
    ['the root', ''],
    ['the prefix', '/openai'],
  ] as const) {
    it(`completes under each served name at ${where}, echoing the name asked for`, async () => {
      for (const model of [NAME, PUBLISHED]) {
        const res = await post(`${srv.url}${path}/v1/completions`, {
          model,
          prompt: greedy.prompt,
          max_tokens: greedy.greedy_ids.length,
          temperature: 0,
        });
        assert.equal(res.status, 200);
        const body = (await res.json()) as any;
        assert.equal(body.model, model);
        assert.equal(body.choices[0].text, greedy.greedy_text);
      }
    });
  }

  it('chats at the root under the published name', async () => {
    const res = await post(`${srv.url}/v1/chat/completions`, {
      model: PUBLISHED,
      messages: chat.messages,
      max_tokens: chat.greedy_ids.length,
      temperature: 0,
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as any;
    assert.equal(body.choices[0].message.content, chat.greedy_text);
    assert.equal(body.usage.completion_tokens, chat.greedy_ids.length);
  });

  it('refuses a name that is not served, in OpenAI error shape', async () => {
    const res = await post(`${srv.url}/v1/completions`, { model: 'publishers/other/models/tiny', prompt: 'x', max_tokens: 1 });
    assert.equal(res.status, 404);
    assert.match(((await res.json()) as any).error.message, /publishers\/other\/models\/tiny/);
  });

  it('keeps the v2 routes under the first served name, and counts OpenAI requests under it', async () => {
    assert.equal((await getJson(`${srv.url}/v2/models/${NAME}/ready`)).status, 200);
    const metrics = await (await fetch(`${srv.url}/metrics`)).text();
    assert.match(metrics, new RegExp(`tsserve_inference_requests_total\\{model_name="${NAME}",protocol="openai",status="200"\\}`));
    assert.doesNotMatch(metrics, /model_name="publishers/);
  });
});

describe('GET /health while a model is not ready', () => {
  let repo: TempRepo;
  let srv: TestServer;
  before(async () => {
    repo = await tempRepo();
    await copyHfModel(repo, HF.gpt2, 'tiny-gpt2');
    // Refused at load: text generation needs a KV-cache graph.
    await copyHfModel(repo, HF.gpt2NoCache, 'no-cache');
    srv = await startTestServer(repo.dir);
  });
  after(async () => {
    await srv.close();
    await repo.remove();
  });

  it('answers 503 naming the model, as /v2/health/ready does', async () => {
    const res = await getJson(`${srv.url}/health`);
    assert.equal(res.status, 503);
    assert.match(res.body.error, /no-cache/);
    assert.equal((await getJson(`${srv.url}/v2/health/ready`)).status, 503);
  });
});

interface HttpsReply {
  status: number;
  body: string;
}

/** A request over HTTPS that trusts only `ca` (Node's own CAs when undefined). */
function httpsCall(url: string, ca: Buffer | undefined, body?: unknown): Promise<HttpsReply> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = httpsRequest(
      url,
      { method: payload ? 'POST' : 'GET', ca, servername: '', headers: payload ? { 'content-type': 'application/json' } : {} },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

describe('TLS from --ssl_certfile and --ssl_keyfile', () => {
  const ca = readFileSync(CERT_FILE);
  let srv: TestServer;
  let base: string;
  before(async () => {
    srv = await startTestServer(repoPath(HF.gpt2), { model_name: NAME, ssl_certfile: CERT_FILE, ssl_keyfile: KEY_FILE });
    base = `https://127.0.0.1:${srv.server.httpPort}`;
  });
  after(() => srv.close());

  it('serves /health and completions over HTTPS with the given certificate', async () => {
    assert.deepEqual(await httpsCall(`${base}/health`, ca), { status: 200, body: '' });
    const res = await httpsCall(`${base}/v1/completions`, ca, {
      model: NAME,
      prompt: greedy.prompt,
      max_tokens: greedy.greedy_ids.length,
      temperature: 0,
    });
    assert.equal(res.status, 200);
    assert.equal(JSON.parse(res.body).choices[0].text, greedy.greedy_text);
  });

  it('does not answer plain HTTP on that port', async () => {
    await assert.rejects(fetch(`http://127.0.0.1:${srv.server.httpPort}/health`));
  });

  it('a client that does not trust the certificate is refused', async () => {
    await assert.rejects(httpsCall(`${base}/health`, undefined), /self-signed certificate/);
  });

  it('serves gRPC over TLS with the same certificate', async () => {
    const client = new GrpcTestClient(srv.grpcAddress, grpc.credentials.createSsl(ca));
    try {
      assert.deepEqual(await client.call('ServerReady'), { ready: true });
    } finally {
      client.close();
    }
  });
});

describe('bad TLS flags stop the server with a message naming them', () => {
  const start = (overrides: Record<string, string>) => {
    const { options } = parseTsserveArgs([], {});
    return startServer({
      ...options,
      model_dir: repoPath(HF.gpt2),
      host: '127.0.0.1',
      http_port: 0,
      grpc_port: 0,
      log_level: 'silent',
      ...overrides,
    });
  };

  it('a certificate without a key', async () => {
    await assert.rejects(start({ ssl_certfile: CERT_FILE }), /--ssl_certfile and --ssl_keyfile go together/);
  });

  it('a file that cannot be read', async () => {
    await assert.rejects(
      start({ ssl_certfile: CERT_FILE, ssl_keyfile: '/nonexistent/tls.key' }),
      /--ssl_keyfile '\/nonexistent\/tls\.key' cannot be read: ENOENT/,
    );
  });

  it("a key that is not the certificate's", async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const repo = await tempRepo();
    try {
      await repo.write('other.key', privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
      await assert.rejects(
        start({ ssl_certfile: CERT_FILE, ssl_keyfile: `${repo.dir}/other.key` }),
        /are not a PEM certificate and its private key/,
      );
    } finally {
      await repo.remove();
    }
  });
});

/** The SHA-256 fingerprint of the certificate a TLS server at 127.0.0.1:port presents. */
function servedFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false, servername: '' }, () => {
      resolve(socket.getPeerX509Certificate()!.fingerprint256);
      socket.end();
    });
    socket.on('error', reject);
  });
}

describe('--enable_ssl_refresh', () => {
  const openssl = spawnSync('openssl', ['version']).status === 0;

  it('serves a replaced certificate and key to new connections', { skip: openssl ? false : 'openssl is not installed' }, async () => {
    const repo = await tempRepo();
    let srv: TestServer | undefined;
    try {
      const cert = `${repo.dir}/tls.crt`;
      const key = `${repo.dir}/tls.key`;
      copyFileSync(CERT_FILE, cert);
      copyFileSync(KEY_FILE, key);
      srv = await startTestServer(repoPath(HF.gpt2), {
        ssl_certfile: cert,
        ssl_keyfile: key,
        enable_ssl_refresh: true,
        enable_grpc: false,
      });
      const before = await servedFingerprint(srv.server.httpPort);
      assert.equal(before, new X509Certificate(readFileSync(CERT_FILE)).fingerprint256);
      const made = spawnSync('openssl', [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        `${key}.new`,
        '-out',
        `${cert}.new`,
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ]);
      assert.equal(made.status, 0, String(made.stderr));
      const next = new X509Certificate(readFileSync(`${cert}.new`)).fingerprint256;
      // The certificate first, then the key, as a non-atomic update would leave them.
      renameSync(`${cert}.new`, cert);
      renameSync(`${key}.new`, key);
      const deadline = Date.now() + 20_000;
      let served = before;
      while (served !== next && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
        served = await servedFingerprint(srv.server.httpPort);
      }
      assert.equal(served, next);
    } finally {
      await srv?.close();
      await repo.remove();
    }
  });
});
