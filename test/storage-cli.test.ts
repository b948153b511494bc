/**
 * The storage-initializer command (KServe's ClusterStorageContainer contract) and the server
 * pulling its models itself (`--model_dir s3://...`, STORAGE_URI), run as the processes KServe
 * would start, against a stand-in S3 endpoint holding a copy of models/classifier.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { repoPath } from './helpers/server.js';
import { HttpFileStandIn } from './helpers/stand-ins/http-file-server.js';
import { S3StandIn } from './helpers/stand-ins/s3-server.js';
import { TEST_ENV, readTree, removeTempDirs, runCommand, tempDir } from './helpers/storage.js';

const SECRET = 'wJalrXUtnFEMI-do-not-print';
const cases = JSON.parse(readFileSync(repoPath('models/classifier/cases.json'), 'utf8')) as { inputs: number[][]; label: number[] };

function putFolder(s3: S3StandIn, bucket: string, prefix: string, dir: string): void {
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = join(entry.parentPath ?? entry.path, entry.name);
    s3.put(bucket, `${prefix}/${relative(dir, full)}`, readFileSync(full));
  }
}

/** Starts tsserve as a child process and resolves with its port once it logs that it serves. */
function startTsserve(args: string[], env: Record<string, string>): Promise<{ child: ChildProcess; port: number; logs: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [repoPath('dist/src/cli.js'), '--host', '127.0.0.1', '--http_port', '0', ...args], {
      env: { PATH: process.env.PATH, ...TEST_ENV, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const logs: string[] = [];
    let buffered = '';
    child.stdout!.on('data', (d: Buffer) => {
      buffered += d.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        logs.push(line);
        const record = JSON.parse(line) as { msg: string; httpPort?: number };
        if (record.msg === 'tsserve is serving') resolve({ child, port: record.httpPort!, logs });
      }
    });
    child.once('exit', (code) => reject(new Error(`tsserve exited with ${code}: ${logs.join('\n')}`)));
  });
}

async function predictLabels(port: number, model = 'classifier'): Promise<number[]> {
  const res = await fetch(`http://127.0.0.1:${port}/v2/models/${model}/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [cases.inputs.length, 4], data: cases.inputs.flat() }] }),
  });
  assert.equal(res.status, 200);
  const body = (await res.json()) as { outputs: Array<{ name: string; data: number[] }> };
  return body.outputs.find((o) => o.name === 'label')!.data;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

describe('storage-initializer command and the server pulling models', () => {
  let s3: S3StandIn;
  let web: HttpFileStandIn;
  let env: Record<string, string>;

  before(async () => {
    s3 = await new S3StandIn({ accessKeys: ['AKIDCLI'] }).start();
    web = await new HttpFileStandIn().start();
    putFolder(s3, 'models', 'repo/classifier', repoPath('models/classifier'));
    s3.put('models', 'other/readme.txt', 'second model');
    s3.put('models', 'slow/weights.bin', Buffer.alloc(4 * 1024 * 1024, 1));
    env = { AWS_ACCESS_KEY_ID: 'AKIDCLI', AWS_SECRET_ACCESS_KEY: SECRET, AWS_ENDPOINT_URL: s3.url, AWS_REGION: 'us-east-1' };
  });
  after(async () => {
    await s3.close();
    await web.close();
    await removeTempDirs();
  });

  test('no arguments, or an odd number past one, is a usage error (exit 2)', async () => {
    for (const args of [[], ['s3://a/b', '/tmp/x', 's3://c/d']]) {
      const run = await runCommand('src/storage/cli.js', args, {});
      assert.equal(run.code, 2);
      assert.match(
        run.stderr,
        new RegExp(`^storage-initializer: expected <src-uri> <dest-path> pairs, got ${args.length} argument\\(s\\)`),
      );
      assert.match(run.stderr, /Usage: storage-initializer <src-uri> \[<dest-path>\]/);
    }
  });

  test('pairs are downloaded in turn; exit 0; the logs say how long it took', async () => {
    const [a, b] = [await tempDir(), await tempDir()];
    const run = await runCommand('src/storage/cli.js', ['s3://models/repo', a, 's3://models/other', b], env);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(Object.keys(await readTree(a)), ['classifier/1/model.onnx', 'classifier/cases.json', 'classifier/config.pbtxt']);
    assert.deepEqual(await readTree(b), { 'readme.txt': 'second model' });
    const done = run.stdout.split('\n').filter((l) => l.includes('Model downloaded in'));
    assert.equal(done.length, 2);
    assert.match(done[0]!, /"files":3,"bytes":\d+/);
    // Every line is JSON, the AWS SDK's Node-version notice (a process warning on Node < 22) included.
    assert.equal(run.stderr, '');
    for (const line of run.stdout.trim().split('\n')) JSON.parse(line);
  });

  test('progress lines carry bytes and rate while a download runs', async () => {
    s3.delayMs = 300;
    const run = await runCommand('src/storage/cli.js', ['s3://models/slow', await tempDir()], { ...env, STORAGE_PROGRESS_INTERVAL: '0.1' });
    s3.delayMs = 0;
    assert.equal(run.code, 0, run.stderr);
    const progress = run.stdout.split('\n').filter((l) => l.includes('"rateMBps"') && l.includes('"totalBytes":4194304'));
    assert.ok(progress.length >= 1, run.stdout);
    assert.match(progress[0]!, /"files":"0\/1","bytes":\d+/);
  });

  test('a failure exits 1 naming the source and the reason, and never prints the secret', async () => {
    const dest = await tempDir();
    const run = await runCommand('src/storage/cli.js', ['s3://models/repo', dest], { ...env, AWS_ACCESS_KEY_ID: 'AKIDWRONG' });
    assert.equal(run.code, 1);
    assert.match(
      run.stderr,
      new RegExp(
        `storage-initializer: failed to download s3://models/repo to ${dest}: access denied to s3://models/repo \\(HTTP 403: InvalidAccessKeyId`,
      ),
    );
    assert.ok(!run.stdout.includes(SECRET) && !run.stderr.includes(SECRET));
    assert.match(run.stdout, /"code":"ACCESS_DENIED"/);
  });

  test('credentials in an http URL and presigned query strings are hidden in messages', async () => {
    const run = await runCommand(
      'src/storage/cli.js',
      [`http://user:hunter2@127.0.0.1:${web.port}/missing.onnx?X-Amz-Signature=abcdef`, await tempDir()],
      {},
    );
    assert.equal(run.code, 1);
    assert.match(
      run.stderr,
      new RegExp(
        `failed to download http://\\*\\*\\*@127\\.0\\.0\\.1:${web.port}/missing\\.onnx\\?\\*\\*\\* to .*: .*was not found \\(HTTP 404`,
      ),
    );
    assert.ok(!/hunter2|abcdef/.test(run.stdout + run.stderr));
    assert.equal(web.requests.at(-1)!.headers.authorization, `Basic ${Buffer.from('user:hunter2').toString('base64')}`);
  });

  test('one argument downloads to /mnt/models', async () => {
    const run = await runCommand('src/storage/cli.js', ['ftp://host/model'], {});
    assert.equal(run.code, 1);
    assert.equal(
      run.stderr,
      "storage-initializer: failed to download ftp://host/model to /mnt/models: Cannot recognize storage type for 'ftp://host/model': expected gs://, s3://, hf://, http(s)://, file:// or a local path\n",
    );
  });

  test('tsserve --model_dir s3://... downloads the repository, then serves it', async () => {
    const storageDir = await tempDir();
    const { child, port, logs } = await startTsserve(['--model_dir', 's3://models/repo', '--storage_dir', storageDir], env);
    try {
      assert.deepEqual(await predictLabels(port), cases.label);
      assert.ok(logs.some((l) => l.includes('Model downloaded in')));
      assert.ok(!logs.join('\n').includes(SECRET));
    } finally {
      await stop(child);
    }
  });

  test('STORAGE_URI downloads into --model_dir before serving', async () => {
    const modelDir = await tempDir();
    const { child, port } = await startTsserve(['--model_dir', modelDir], { ...env, STORAGE_URI: 's3://models/repo' });
    try {
      assert.deepEqual(await predictLabels(port), cases.label);
      assert.deepEqual(readdirSync(modelDir), ['classifier']);
    } finally {
      await stop(child);
    }
  });

  test('a model_dir URI that cannot be downloaded stops the server with the reason (exit 1)', async () => {
    const run = await runCommand(
      'src/cli.js',
      ['--model_dir', 's3://models/nothing', '--storage_dir', await tempDir(), '--http_port', '0'],
      env,
    );
    assert.equal(run.code, 1);
    assert.match(run.stdout, /"msg":"tsserve could not start"/);
    assert.match(run.stdout, /No model found in s3:\/\/models\/nothing/);
  });
});
