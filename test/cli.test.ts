/** The tsserve command as KServe runs it: flags in both forms, environment variables, unknown flags. */
import assert from 'node:assert/strict';
import { type ChildProcess, spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { FP32_IDENTITY, tempRepo } from './helpers/model-dir.js';
import { CLI, serveCli } from './helpers/cli-process.js';

async function serve(args: string[], env: NodeJS.ProcessEnv = {}) {
  const srv = await serveCli(args, env);
  return { child: srv.child, port: srv.port, logs: srv.logs };
}

function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    child.on('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });
}

describe('the tsserve command', () => {
  it('prints every flag with its environment variable on --help', () => {
    const out = spawnSync(process.execPath, [CLI, '--help'], { encoding: 'utf8' });
    assert.equal(out.status, 0);
    for (const flag of [
      'model_name',
      'model_dir',
      'http_port',
      'grpc_port',
      'enable_grpc',
      'grpc_max_receive_message_length',
      'grpc_max_send_message_length',
      'workers',
      'nthread',
    ]) {
      assert.match(out.stdout, new RegExp(`--${flag} .*env TSSERVE_${flag.toUpperCase()}`));
    }
  });

  it('serves with --flag=value and --flag value forms, ignoring unknown flags, and stops on SIGTERM', async () => {
    const repo = await tempRepo();
    await repo.copy(FP32_IDENTITY, 'only.onnx');
    const { child, port, logs } = await serve([
      `--model_dir=${repo.dir}`,
      '--model_name',
      'named',
      '--http_port',
      '0',
      '--grpc_port=0',
      '--host=127.0.0.1',
      '--predictor_host',
      'localhost:9000',
      '--max_threads=4',
      '--workers',
      '1',
    ]);
    try {
      const warn = logs.find((l) => l.msg === 'ignoring unknown arguments');
      assert.deepEqual(warn.flags, ['--predictor_host=localhost:9000', '--max_threads=4']);
      const serving = logs.find((l) => l.msg === 'tsserve is serving');
      assert.ok(serving.grpcPort > 0, 'the gRPC port is logged');
      const res = await fetch(`http://127.0.0.1:${port}/v2/models/named/ready`);
      assert.equal(res.status, 200);
    } finally {
      assert.equal(await stop(child), 0);
      await repo.remove();
    }
  });

  it('reads settings from environment variables; a flag wins over its variable', async () => {
    const repo = await tempRepo();
    await repo.copy(FP32_IDENTITY, 'only.onnx');
    const { child, port, logs } = await serve(['--http_port', '0'], {
      TSSERVE_MODEL_DIR: repo.dir,
      TSSERVE_MODEL_NAME: 'from-env',
      TSSERVE_HOST: '127.0.0.1',
      TSSERVE_HTTP_PORT: '1',
      TSSERVE_ENABLE_GRPC: 'false',
    });
    try {
      const res = await fetch(`http://127.0.0.1:${port}/v1/models`);
      assert.deepEqual(((await res.json()) as { models: string[] }).models, ['from-env']);
      assert.equal(logs.find((l) => l.msg === 'tsserve is serving').grpcPort, undefined, 'TSSERVE_ENABLE_GRPC=false');
    } finally {
      await stop(child);
      await repo.remove();
    }
  });

  it('exits with a clear message on a bad flag value or a missing model_dir', () => {
    const bad = spawnSync(process.execPath, [CLI, '--http_port', 'eighty'], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(JSON.parse(bad.stdout).msg, /--http_port expects a non-negative integer, got 'eighty'/);
    const missing = spawnSync(process.execPath, [CLI, '--model_dir', '/nonexistent/models', '--http_port', '0'], { encoding: 'utf8' });
    assert.equal(missing.status, 1);
    assert.match(missing.stdout, /nonexistent/);
  });
});
