/**
 * Small CPU models run on the serving thread (--inline_max_us): the load log says so, answers
 * are the model's own over REST and gRPC, a request larger than the calibrated run still goes
 * to the workers and is answered the same, and --inline_max_us 0 keeps every run in workers.
 * The limit is set high here so that the calibration passes on a loaded test machine too; what
 * the default admits is a measurement (bench/README.md), not a test.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { type CliServer, serveCli } from './helpers/cli-process.js';
import { GrpcTestClient } from './helpers/grpc-client.js';
import { postJson, repoPath } from './helpers/server.js';

const cases = JSON.parse(readFileSync(repoPath('models/classifier/cases.json'), 'utf8')) as {
  inputs: number[][];
  label: number[];
  probabilities: number[][];
};

function assertProbabilities(actual: number[], expected: number[][]): void {
  assert.equal(actual.length, expected.length * 3);
  expected.flat().forEach((p, i) => assert.ok(Math.abs(actual[i]! - p) < 1e-5, `probability ${i}: ${actual[i]} vs ${p}`));
}

function serveClassifier(inlineMaxUs: number): Promise<CliServer> {
  return serveCli([
    `--model_dir=${repoPath('models/classifier')}`,
    '--host=127.0.0.1',
    '--http_port=0',
    '--grpc_port=0',
    `--inline_max_us=${inlineMaxUs}`,
  ]);
}

const loadedLine = (server: CliServer) => server.logs.find((l) => l.msg === 'model loaded' && l.model === 'classifier');
const infer = (server: CliServer, rows: number[][]) =>
  postJson(`${server.url}/v2/models/classifier/infer`, {
    inputs: [{ name: 'input', datatype: 'FP32', shape: [rows.length, 4], data: rows.flat() }],
  });

describe('inline execution of a microsecond model', () => {
  let inline: CliServer;
  let workers: CliServer;

  before(async () => {
    inline = await serveClassifier(1_000_000);
    workers = await serveClassifier(0);
  });
  after(() => {
    inline.child.kill();
    workers.child.kill();
  });

  it('logs where the model runs: inline with its calibration, or in workers only', () => {
    const calibrated = loadedLine(inline)?.inline;
    assert.equal(calibrated?.rows, 1, 'a model without batching is timed at one row');
    assert.ok(calibrated.median_us >= 0);
    assert.equal(loadedLine(workers)?.inline, false);
  });

  it('answers a one-row request inline with the model outputs, over REST and gRPC', async () => {
    const row = cases.inputs[0]!;
    const rest = await infer(inline, [row]);
    assert.equal(rest.status, 200);
    assert.deepEqual(rest.body.outputs[0].data, [cases.label[0]]);
    assertProbabilities(rest.body.outputs[1].data, [cases.probabilities[0]!]);

    const client = new GrpcTestClient(inline.grpcAddress);
    try {
      const reply = await client.call('ModelInfer', {
        model_name: 'classifier',
        inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], contents: { fp32_contents: row } }],
      });
      const labels = reply.raw_output_contents[0] as Buffer;
      assert.equal(Number(labels.readBigInt64LE(0)), cases.label[0]);
    } finally {
      client.close();
    }
  });

  it('sends a request larger than the calibrated run to the workers, with the same answers', async () => {
    const [big, small] = await Promise.all([infer(inline, cases.inputs), infer(workers, cases.inputs)]);
    assert.equal(big.status, 200);
    assert.deepEqual(big.body.outputs[0].data, cases.label);
    assertProbabilities(big.body.outputs[1].data, cases.probabilities);
    assert.deepEqual(big.body.outputs, small.body.outputs, 'inline and workers-only servers answer alike');
  });

  it('counts inline runs in the model statistics like any other', async () => {
    await infer(inline, [cases.inputs[1]!]);
    const stats = await (await fetch(`${inline.url}/v2/models/classifier/stats`)).json();
    const model = stats.model_stats[0];
    assert.ok(Number(model.inference_count) >= 2);
    assert.ok(Number(model.execution_count) >= 2);
  });
});
