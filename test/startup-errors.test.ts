/**
 * Starting the tsserve command the ways users get wrong: each mistake is one JSON log line that
 * says what to change and a non-zero exit, never a stack trace; and the two --model_dir forms
 * KServe users reach for (one model file, one model's folder) serve.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import { type Server, createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { CLI, serveCli } from './helpers/cli-process.js';
import { FP32_IDENTITY, type TempRepo, tempRepo } from './helpers/model-dir.js';
import { getJson, postJson, repoPath } from './helpers/server.js';
import { freePort } from './helpers/free-port.js';

interface Failed {
  code: number | null;
  lines: any[];
  stdout: string;
  stderr: string;
}

/** Runs the CLI to its exit (bounded by a deadline); stdout must be JSON lines only. */
async function runToExit(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Failed> {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: any[] = [];
  let stdout = '';
  let stderr = '';
  createInterface({ input: child.stdout }).on('line', (line) => {
    stdout += `${line}\n`;
    lines.push(JSON.parse(line));
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const deadline = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(deadline);
  return { code, lines, stdout, stderr };
}

/** The one fatal line of a failed start; the process exited non-zero and printed no stack. */
function fatalLine(run: Failed): string {
  assert.notEqual(run.code, 0, `exit code: ${run.stdout}`);
  assert.equal(run.stderr, '', 'nothing on stderr');
  assert.doesNotMatch(run.stdout, /\n\s+at /, 'no stack trace');
  const fatal = run.lines.filter((l) => l.level === 60);
  assert.equal(fatal.length, 1, run.stdout);
  return fatal[0].msg + (fatal[0].err ? `: ${fatal[0].err}` : '');
}

/** Polls readiness until 200, for at most a minute. */
async function untilReady(url: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const status = await fetch(`${url}/v2/health/ready`).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.fail(`${url} never became ready`);
}

const base = ['--http_port', '0', '--grpc_port', '0', '--host', '127.0.0.1'];

describe('--model_dir forms', () => {
  let repo: TempRepo;
  before(async () => {
    repo = await tempRepo();
    await repo.copy(FP32_IDENTITY, 'files/model.onnx');
    await repo.copy(FP32_IDENTITY, 'resnet/1/model.onnx');
    await repo.write('resnet/config.pbtxt', 'max_batch_size: 8\n');
  });
  after(() => repo.remove());

  it('serves a single model file as --model_name', async () => {
    const srv = await serveCli(['--model_dir', `${repo.dir}/files/model.onnx`, '--model_name', 'iris', ...base]);
    try {
      assert.deepEqual((await getJson(`${srv.url}/v2/models`)).body, { models: ['iris'] });
      const infer = await postJson(`${srv.url}/v2/models/iris/infer`, {
        inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: [1, 2] }],
      });
      assert.deepEqual(infer.body.outputs[0].data, [1, 2]);
    } finally {
      srv.child.kill('SIGTERM');
      await srv.exited;
    }
  });

  it("serves one model's folder (config.pbtxt and version folders) under the folder's name", async () => {
    const srv = await serveCli(['--model_dir', `${repo.dir}/resnet`, ...base]);
    try {
      assert.deepEqual((await getJson(`${srv.url}/v2/models`)).body, { models: ['resnet'] });
      assert.equal((await getJson(`${srv.url}/v2/models/resnet/config`)).body.max_batch_size, 8);
    } finally {
      srv.child.kill('SIGTERM');
      await srv.exited;
    }
  });
});

describe('startup errors', () => {
  let repo: TempRepo;
  let busy: Server;
  let busyPort: number;
  before(async () => {
    repo = await tempRepo();
    await repo.copy(FP32_IDENTITY, 'm/1/model.onnx');
    await repo.write('corrupt/model.onnx', 'half an onnx file');
    await repo.write('xgb/model.json', '{"not": "an xgboost model"}');
    busy = createServer();
    busy.listen(0, '127.0.0.1');
    await once(busy, 'listening');
    busyPort = (busy.address() as { port: number }).port;
  });
  after(async () => {
    busy.close();
    await repo.remove();
  });

  it('names the flag and the path of a missing model dir', async () => {
    const msg = fatalLine(await runToExit(['--model_dir', '/nonexistent/models', ...base]));
    assert.match(
      msg,
      /--model_dir \/nonexistent\/models does not exist: point --model_dir at a model file, a model's folder or a repository/,
    );
  });

  it('names --grpc_port and --enable_grpc false for a gRPC port in use, before any model loads', async () => {
    const run = await runToExit(['--model_dir', repo.dir, '--http_port', '0', '--grpc_port', String(busyPort), '--host', '127.0.0.1']);
    const msg = fatalLine(run);
    assert.match(
      msg,
      new RegExp(
        `--grpc_port ${busyPort}: port ${busyPort} on 127.0.0.1 is already in use; choose another --grpc_port, or turn gRPC off with --enable_grpc false`,
      ),
    );
    assert.ok(!run.lines.some((l) => l.msg === 'loading models' || l.msg === 'model loaded'), 'no model was loaded');
  });

  it('names --http_port for an HTTP port in use', async () => {
    const msg = fatalLine(
      await runToExit(['--model_dir', repo.dir, '--http_port', String(busyPort), '--enable_grpc', 'false', '--host', '127.0.0.1']),
    );
    assert.match(msg, new RegExp(`--http_port ${busyPort}: port ${busyPort} on 127.0.0.1 is already in use; choose another --http_port`));
  });

  it('refuses port numbers out of range and one port for both listeners, before anything loads', async () => {
    const range = await runToExit(['--model_dir', repo.dir, '--http_port', '70000']);
    assert.equal(range.code, 2);
    assert.match(fatalLine(range), /--http_port expects an integer from 0 to 65535, got '70000'/);
    assert.ok(!range.lines.some((l) => l.msg === 'loading models'));
    const env = await runToExit(['--model_dir', repo.dir], { TSSERVE_GRPC_PORT: '-1' });
    assert.match(fatalLine(env), /environment variable TSSERVE_GRPC_PORT expects a non-negative integer, got '-1'/);
    const same = await runToExit(['--model_dir', repo.dir, '--http_port', '18080', '--grpc_port', '18080']);
    assert.match(fatalLine(same), /--http_port and --grpc_port are both 18080: give them different ports/);
  });

  it("takes KServe's log levels in any case, and refuses an unknown one naming the flag", async () => {
    for (const level of ['WARNING', 'critical', 'Debug']) {
      // Above info the "serving" line is not logged: find a free port and poll readiness instead.
      const port = await freePort();
      const child = spawn(
        process.execPath,
        [CLI, '--model_dir', `${repo.dir}/m`, '--http_port', String(port), '--enable_grpc', 'false', '--host', '127.0.0.1'],
        {
          env: { ...process.env, KSERVE_LOGLEVEL: level },
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      const exited = once(child, 'exit');
      await untilReady(`http://127.0.0.1:${port}`);
      child.kill('SIGTERM');
      assert.deepEqual(await exited, [0, null], level);
      const levels = out
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l).level as number);
      const least = { WARNING: 40, critical: 60, Debug: 20 }[level]!;
      assert.ok(
        levels.every((l) => l >= least),
        `${level}: ${out}`,
      );
      if (level === 'Debug') assert.ok(levels.includes(30), 'info lines are logged at debug');
    }
    const bad = await runToExit(['--model_dir', repo.dir, ...base], { KSERVE_LOGLEVEL: 'LOUD' });
    assert.match(fatalLine(bad), /environment variable KSERVE_LOGLEVEL expects one of .*warning.*critical.* \(any case\), got 'LOUD'/);
  });

  it('refuses invalid flag values, naming the flag and what it takes, before anything loads', async () => {
    const cases: [string[], RegExp][] = [
      [['--enable_grpc', 'maybe'], /--enable_grpc expects true or false, got 'maybe'/],
      [['--execution_provider', 'tpu'], /--execution_provider expects one of cpu, cuda, auto, got 'tpu'/],
      [['--workers', '1.5'], /--workers expects a non-negative integer, got '1\.5'/],
      [['--http_port'], /--http_port needs a value/],
    ];
    for (const [args, message] of cases) {
      const run = await runToExit(['--model_dir', repo.dir, ...args]);
      assert.equal(run.code, 2, args.join(' '));
      assert.match(fatalLine(run), message);
      assert.ok(!run.lines.some((l) => l.msg === 'loading models'));
    }
  });

  it('says "did you mean" for a flag a small edit away from a known one, and still ignores KServe\'s own', async () => {
    for (const [typo, meant] of [
      ['--http-prot', '--http_port'],
      ['--model_dri', '--model_dir'],
      ['--grpc_prot=9000', '--grpc_port'],
    ]) {
      const run = await runToExit(['--model_dir', repo.dir, typo!, '9000']);
      assert.equal(run.code, 2, typo);
      assert.match(
        fatalLine(run),
        new RegExp(`unknown flag ${typo!.split('=')[0]!.replace(/-/g, '_').replace(/^__/, '--')}: did you mean ${meant}\\?`),
      );
    }
    // --model_id (huggingfaceserver) is two edits from --model_dir, yet KServe passes it: ignored, not refused.
    const srv = await serveCli(['--model_dir', repo.dir, '--model_id', 'bert', '--max_threads', '4', ...base]);
    try {
      assert.deepEqual(srv.logs.find((l) => l.msg === 'ignoring unknown arguments').flags, ['--model_id=bert', '--max_threads=4']);
    } finally {
      srv.child.kill('SIGTERM');
      await srv.exited;
    }
  });

  it('prints the version on --version', async () => {
    const run = spawnSync(process.execPath, [CLI, '--version'], { encoding: 'utf8' });
    assert.equal(run.status, 0);
    const { version } = JSON.parse(readFileSync(repoPath('package.json'), 'utf8'));
    assert.equal(run.stdout, `tsserve ${version}\n`);
  });

  it('says which file is corrupt and that it is not a valid ONNX or XGBoost file', async () => {
    const onnx = fatalLine(await runToExit(['--model_dir', `${repo.dir}/corrupt/model.onnx`, ...base]));
    assert.match(onnx, new RegExp(`${repo.dir}/corrupt/model\\.onnx is not a valid ONNX file`));
    const xgb = fatalLine(await runToExit(['--model_dir', `${repo.dir}/xgb`, ...base]));
    assert.match(xgb, new RegExp(`${repo.dir}/xgb/model\\.json is not a valid XGBoost model file`));
  });
});
