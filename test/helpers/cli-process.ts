/** Runs the real tsserve command in a child process and follows its JSON log lines. */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { repoPath } from './server.js';

export const CLI = repoPath('dist/src/cli.js');

export interface CliServer {
  child: ChildProcess;
  port: number;
  url: string;
  /** 127.0.0.1:port of its gRPC frontend, when it serves one. */
  grpcAddress: string;
  /** Every log line so far, parsed. */
  logs: any[];
  /** Raw stdout so far, to check that something never appears. */
  stdout(): string;
  /** The exit code, or the signal that ended the process. */
  exited: Promise<number | string | null>;
}

/** Starts the CLI and resolves once it logs that it is serving. */
export function serveCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliServer> {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: any[] = [];
  let raw = '';
  const exited = new Promise<number | string | null>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal)));
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      raw += `${line}\n`;
      const entry = JSON.parse(line);
      logs.push(entry);
      if (entry.msg === 'tsserve is serving') {
        const port = entry.httpPort as number;
        const grpcAddress = `127.0.0.1:${entry.grpcPort as number}`;
        resolve({ child, port, url: `http://127.0.0.1:${port}`, grpcAddress, logs, stdout: () => raw, exited });
      }
    });
    void exited.then((code) => reject(new Error(`tsserve exited with ${code}: ${raw}`)));
  });
}
