/**
 * Cancellation on every protocol (issue 17 item 5): a client that leaves (REST v2, V1, gRPC unary
 * and ModelStreamInfer) stops the generation it asked for, so it does not keep the workers busy,
 * and is counted per protocol. Generation requests carry at most --max_prompts_per_request prompts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { type TempRepo, tempRepo } from './helpers/model-dir.js';
import { HF, copyHfModel, gpt2Expected, post } from './helpers/hf.js';
import { type TestServer, postJson, startTestServer } from './helpers/server.js';
import { GrpcTestClient } from './helpers/grpc-client.js';
import { until } from './helpers/poll.js';

const PROMPT = gpt2Expected.prompts[0]!;
/** Greedy generation on this model does not stop early, so each prompt costs every token asked for. */
const LONG = { parameters: { max_tokens: 100 } };

function prompts(n: number) {
  return { inputs: [{ name: 'text', datatype: 'BYTES', shape: [n], data: Array.from({ length: n }, () => PROMPT.prompt) }] };
}

async function metric(url: string, pattern: RegExp): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const match = pattern.exec(text);
  return match ? Number(match[1]) : 0;
}

const cancelled = (protocol: string) => new RegExp(`tsserve_requests_cancelled_total\\{model_name="gpt2",protocol="${protocol}"\\} (\\d+)`);
const inFlight = /tsserve_inference_requests_in_flight\{model_name="gpt2"\} (\d+)/;

/** Resolves with `work`'s value, or fails the test once `ms` have passed. */
async function within<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took more than ${ms} ms`)), ms)));
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

describe('cancellation on every protocol', () => {
  let repo: TempRepo;
  let srv: TestServer;
  let client: GrpcTestClient;
  const v2 = () => `${srv.url}/v2/models/gpt2/infer`;

  before(async () => {
    repo = await tempRepo();
    await copyHfModel(repo, HF.gpt2, 'gpt2');
    srv = await startTestServer(repo.dir, { workers: 2 });
    client = new GrpcTestClient(srv.grpcAddress);
  });

  after(async () => {
    client?.close();
    await srv?.close();
    await repo?.remove();
  });

  it('two abandoned v2 requests of many prompts free both workers: a third request is answered at once', async () => {
    // What one small request costs on an idle server, to compare with after the abandon.
    const small = { ...prompts(1), parameters: { max_tokens: 8 } };
    const idle = await postJson(v2(), small);
    assert.equal(idle.status, 200);
    assert.equal(idle.body.outputs[0].data[0], PROMPT.greedy_text);

    const controllers = [new AbortController(), new AbortController()];
    const abandoned = controllers.map((c) => post(v2(), { ...prompts(64), ...LONG }, c.signal).catch((e: Error) => e));
    await until(async () => (await metric(srv.url, inFlight)) === 2, 'both requests running');
    for (const c of controllers) c.abort();
    for (const result of await Promise.all(abandoned)) assert.ok(result instanceof Error, 'the client gave up on it');
    await until(async () => (await metric(srv.url, cancelled('v2'))) === 2, 'two v2 cancellations counted');

    // 64 prompts x 100 tokens would hold each worker for thousands of steps; stopped, the
    // workers take the next request at once.
    const started = performance.now();
    const third = await within(postJson(v2(), small), 10_000, 'a request after the abandon');
    assert.equal(third.status, 200);
    assert.equal(third.body.outputs[0].data[0], PROMPT.greedy_text);
    const afterMs = performance.now() - started;
    console.log(JSON.stringify({ third_request_ms: Math.round(afterMs) }));
  });

  it('V1 :predict: a client that leaves is counted and its generation stopped', async () => {
    const controller = new AbortController();
    const body = { instances: Array.from({ length: 64 }, () => PROMPT.prompt), ...LONG };
    const pending = post(`${srv.url}/v1/models/gpt2:predict`, body, controller.signal).catch((e: Error) => e);
    await until(async () => (await metric(srv.url, inFlight)) === 1, 'the V1 request running');
    controller.abort();
    assert.ok((await pending) instanceof Error);
    await until(async () => (await metric(srv.url, cancelled('v1'))) === 1, 'the V1 cancellation counted');
    await until(async () => (await metric(srv.url, inFlight)) === 0, 'nothing in flight');
  });

  it('gRPC ModelInfer: a cancelled call is counted and its generation stopped', async () => {
    const request = {
      model_name: 'gpt2',
      inputs: [
        {
          name: 'text',
          datatype: 'BYTES',
          shape: [64],
          contents: { bytes_contents: Array.from({ length: 64 }, () => Buffer.from(PROMPT.prompt)) },
        },
      ],
      parameters: { max_tokens: { int64_param: 100 } },
    };
    const call = (client.inference as any).ModelInfer(request, (error: grpc.ServiceError | null) => {
      assert.equal(error?.code, grpc.status.CANCELLED);
    }) as grpc.ClientUnaryCall;
    await until(async () => (await metric(srv.url, inFlight)) === 1, 'the gRPC request running');
    call.cancel();
    await until(async () => (await metric(srv.url, cancelled('grpc'))) === 1, 'the gRPC cancellation counted');
    await until(async () => (await metric(srv.url, inFlight)) === 0, 'nothing in flight');
  });

  it('gRPC ModelStreamInfer: cancelling the stream drops the requests it carries', async () => {
    const stream = (client.inference as any).ModelStreamInfer() as grpc.ClientDuplexStream<object, object>;
    stream.on('error', () => {}); // the cancel the test makes
    const request = (id: string) => ({
      model_name: 'gpt2',
      id,
      inputs: [
        {
          name: 'text',
          datatype: 'BYTES',
          shape: [64],
          contents: { bytes_contents: Array.from({ length: 64 }, () => Buffer.from(PROMPT.prompt)) },
        },
      ],
      parameters: { max_tokens: { int64_param: 100 } },
    });
    stream.write(request('a'));
    stream.write(request('b'));
    await until(async () => (await metric(srv.url, inFlight)) === 2, 'both stream requests running');
    stream.cancel();
    await until(async () => (await metric(srv.url, cancelled('grpc'))) === 3, 'the two stream cancellations counted');
    await until(async () => (await metric(srv.url, inFlight)) === 0, 'nothing in flight');
    const after = await postJson(v2(), { ...prompts(1), parameters: { max_tokens: 8 } });
    assert.equal(after.body.outputs[0].data[0], PROMPT.greedy_text);
  });

  it('a generation request of more prompts than --max_prompts_per_request is refused, naming the flag', async () => {
    const over = await postJson(v2(), { ...prompts(65), parameters: { max_tokens: 1 } });
    assert.equal(over.status, 400);
    assert.match(over.body.error, /65 prompts.*at most 64.*--max_prompts_per_request/);
    const openai = await post(`${srv.url}/openai/v1/completions`, {
      model: 'gpt2',
      prompt: Array.from({ length: 65 }, () => 'hi'),
      max_tokens: 1,
    });
    assert.equal(openai.status, 400);
    assert.match(JSON.stringify(await openai.json()), /--max_prompts_per_request/);
    await assert.rejects(
      client.call('ModelInfer', {
        model_name: 'gpt2',
        inputs: [
          {
            name: 'text',
            datatype: 'BYTES',
            shape: [65],
            contents: { bytes_contents: Array.from({ length: 65 }, () => Buffer.from('hi')) },
          },
        ],
      }),
      (e: grpc.ServiceError) => e.code === grpc.status.INVALID_ARGUMENT && /--max_prompts_per_request/.test(e.details),
    );
  });
});
