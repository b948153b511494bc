/**
 * Storage initializer throughput: the storage-initializer command downloading from the S3
 * stand-in on 127.0.0.1 (one 1 GiB object; 1000 small files), its peak RSS, beside `cp` of the
 * same bytes on the same disk.
 *
 *   npx tsc -p . && node dist/bench/storage.js [--size_mib 1024] [--files 1000] [--file_kib 64] [--out FILE]
 *
 * The stand-in server runs in this process and shares the machine's cores with the download,
 * as MinIO on the same node would; `cp` reads from the page cache (the source was just written).
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bytesObject, generatedByte, generatedObject } from '../test/helpers/stand-ins/blob.js';
import { S3StandIn } from '../test/helpers/stand-ins/s3-server.js';
import { resultsFile } from './lib/results-dir.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const INITIALIZER = join(ROOT, 'dist/src/storage/cli.js');

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : fallback;
}

interface Run {
  seconds: number;
  peakRssMiB?: number;
}

/** Runs a command, timing it and sampling its peak RSS (VmHWM) while it runs. */
function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let peak = 0;
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setInterval(() => {
      try {
        peak = Math.max(peak, Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0));
      } catch {
        // exited
      }
    }, 20);
    child.once('close', (code) => {
      clearInterval(timer);
      if (code !== 0) return reject(new Error(`${cmd} exited ${code}: ${stderr}`));
      resolve({ seconds: (performance.now() - started) / 1000, peakRssMiB: peak ? peak / 1024 : undefined });
    });
  });
}

function generated(size: number): Buffer {
  const buf = Buffer.alloc(size);
  for (let i = 0; i < size; i++) buf[i] = generatedByte(i);
  return buf;
}

async function main(): Promise<void> {
  const sizeMiB = Number(option('size_mib', '1024'));
  const files = Number(option('files', '1000'));
  const fileKiB = Number(option('file_kib', '64'));
  const out = option('out', resultsFile('storage.md'));
  const work = await mkdtemp(join(os.tmpdir(), 'tsserve-bench-storage-'));
  const s3 = await new S3StandIn({ accessKeys: ['AKBENCH'] }).start();
  const env = { AWS_ACCESS_KEY_ID: 'AKBENCH', AWS_SECRET_ACCESS_KEY: 'bench', AWS_ENDPOINT_URL: s3.url, STORAGE_LOG_LEVEL: 'warn' };
  const rows: string[] = [];
  const row = (what: string, bytes: number, run: Run) => {
    const line = `| ${what} | ${(bytes / 2 ** 20).toFixed(0)} | ${run.seconds.toFixed(2)} | ${(bytes / 2 ** 20 / run.seconds).toFixed(0)} | ${run.peakRssMiB?.toFixed(0) ?? '-'} |`;
    rows.push(line);
    console.log(line);
  };
  try {
    const big = sizeMiB * 2 ** 20;
    const bigBytes = generated(big);
    s3.put('bench', 'big-md5/model.bin', bytesObject(bigBytes));
    s3.put('bench', 'big-multipart/model.bin', generatedObject(big));
    await writeFile(join(work, 'source.bin'), bigBytes);
    row(
      `storage-initializer, 1 object, MD5 verified`,
      big,
      await timed(process.execPath, [INITIALIZER, 's3://bench/big-md5', join(work, 'd1')], env),
    );
    row(
      `storage-initializer, 1 object, multipart ETag (size check)`,
      big,
      await timed(process.execPath, [INITIALIZER, 's3://bench/big-multipart', join(work, 'd2')], env),
    );
    row('`cp` of the same bytes', big, await timed('cp', [join(work, 'source.bin'), join(work, 'copy.bin')]));
    s3.buckets.get('bench')!.clear();
    await rm(join(work, 'd1'), { recursive: true });
    await rm(join(work, 'd2'), { recursive: true });

    const small = bytesObject(generated(fileKiB * 1024));
    await mkdir(join(work, 'tree'));
    for (let i = 0; i < files; i++) {
      const key = `m${i % 10}/f${i}.bin`;
      s3.put('bench', `many/${key}`, small);
      await mkdir(join(work, 'tree', `m${i % 10}`), { recursive: true });
      await writeFile(join(work, 'tree', key), small.data!);
    }
    const total = files * fileKiB * 1024;
    for (const concurrency of ['4', '16']) {
      const dest = join(work, `many-${concurrency}`);
      row(
        `storage-initializer, ${files} × ${fileKiB} KiB, concurrency ${concurrency}`,
        total,
        await timed(process.execPath, [INITIALIZER, 's3://bench/many', dest], { ...env, STORAGE_MAX_CONCURRENCY: concurrency }),
      );
      if ((await readdir(dest)).length !== 10) throw new Error('incomplete download');
    }
    row('`cp -r` of the same files', total, await timed('cp', ['-r', join(work, 'tree'), join(work, 'tree-copy')]));
  } finally {
    await s3.close();
    await rm(work, { recursive: true, force: true });
  }
  const header = [
    '# Storage initializer throughput',
    '',
    `${new Date().toISOString()} · Node ${process.version} · ${os.cpus()[0]?.model} × ${os.cpus().length} · load ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
    '',
    `\`node dist/bench/storage.js ${process.argv.slice(2).join(' ')}\` — S3 stand-in on 127.0.0.1 in the bench process; destination and \`cp\` on ${os.tmpdir()}.`,
    '',
    '| what | MiB | seconds | MiB/s | peak RSS MiB |',
    '|---|---|---|---|---|',
  ];
  writeFileSync(out, `${[...header, ...rows].join('\n')}\n`);
  console.log(`written to ${out}`);
}

await main();
