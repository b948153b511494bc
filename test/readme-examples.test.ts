/**
 * The README's `curl` examples run as written. Each shell block that holds a `curl ...
 * localhost:8080` command runs against a server started as `npm start` starts it (on a free port:
 * the test rewrites `localhost:8080`), or against the `npx tsserve ...` the block itself starts.
 * Every such curl must answer 2xx; where the README shows an output (the `# ...` lines under
 * the command) the answer must have its shape: the same keys, the same tensor names, datatypes
 * and shapes, the same headers and number of server-sent events, and, where the shown output is
 * whole JSON, the same structure. A block preceded by `<!-- readme-examples: skip (reason) -->`
 * is skipped, and the test checks that only those are.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { type CliServer, serveCli } from './helpers/cli-process.js';
import { repoPath } from './helpers/server.js';

const run = promisify(execFile);
const SKIP = /^<!-- readme-examples: skip \((.+)\) -->$/;
const README = readFileSync(repoPath('README.md'), 'utf8');

interface Command {
  text: string;
  /** The `# ...` lines under it, without the `# `. */
  shown: string[];
}

interface Block {
  line: number;
  skip?: string;
  commands: Command[];
}

/** Tracks shell quoting across lines, so a quoted JSON body spanning lines stays one command. */
class QuoteState {
  quote: "'" | '"' | undefined;
  /** Feeds one line; returns it with a trailing `# comment` (outside quotes) removed. */
  feed(line: string): string {
    for (let i = 0; i < line.length; i++) {
      const c = line[i];
      if (this.quote === "'") {
        if (c === "'") this.quote = undefined;
      } else if (c === '\\') {
        i++;
      } else if (this.quote === '"') {
        if (c === '"') this.quote = undefined;
      } else if (c === "'" || c === '"') {
        this.quote = c;
      } else if (c === '#' && (i === 0 || /\s/.test(line[i - 1]!))) {
        return line.slice(0, i).trimEnd();
      }
    }
    return line;
  }
}

/** The shell commands of one fenced block, each with the output shown under it. */
function commandsOf(lines: string[]): Command[] {
  const commands: Command[] = [];
  const state = new QuoteState();
  let open = false;
  for (const raw of lines) {
    if (open) {
      commands.at(-1)!.text += `\n${state.feed(raw)}`;
    } else if (/^\s*#/.test(raw)) {
      commands.at(-1)?.shown.push(raw.replace(/^\s*# ?/, ''));
      continue;
    } else if (raw.trim()) {
      commands.push({ text: state.feed(raw), shown: [] });
    } else {
      continue;
    }
    open = state.quote !== undefined || commands.at(-1)!.text.endsWith('\\');
  }
  return commands;
}

function shellBlocks(): Block[] {
  const lines = README.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const fence = /^```(\w*)$/.exec(lines[i]!);
    if (!fence) continue;
    const end = lines.indexOf('```', i + 1);
    if (['sh', 'bash', 'shell'].includes(fence[1]!)) {
      const marker = SKIP.exec(
        lines
          .slice(0, i)
          .filter((l) => l.trim() !== '')
          .at(-1) ?? '',
      );
      blocks.push({ line: i + 1, skip: marker?.[1], commands: commandsOf(lines.slice(i + 1, end)) });
    }
    i = end;
  }
  return blocks;
}

const isExample = (c: Command) => /^curl\s/.test(c.text) && c.text.includes('localhost:8080');
const BLOCKS = shellBlocks().filter((b) => b.commands.some(isExample));

const keysIn = (text: string) => new Set([...text.matchAll(/"([A-Za-z_][\w-]*)"\s*:/g)].map((m) => m[1]!));
const tensorsIn = (text: string) =>
  [...text.matchAll(/\{"name":"([^"]+)","datatype":"(\w+)","shape":\[([^\]]*)\]/g)].map((m) => `${m[1]} ${m[2]} [${m[3]}]`);

/** Same JSON types all the way down, the same object keys and the same array lengths. */
function assertSameShape(actual: unknown, shown: unknown, path: string): void {
  const kind = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
  assert.equal(kind(actual), kind(shown), `${path}: a ${kind(shown)} in the README, a ${kind(actual)} in the answer`);
  if (Array.isArray(shown)) {
    const a = actual as unknown[];
    assert.equal(a.length, shown.length, `${path}: ${shown.length} elements in the README, ${a.length} in the answer`);
    shown.forEach((v, i) => assertSameShape(a[i], v, `${path}[${i}]`));
  } else if (kind(shown) === 'object') {
    const a = actual as Record<string, unknown>;
    const s = shown as Record<string, unknown>;
    assert.deepEqual(Object.keys(a).sort(), Object.keys(s).sort(), `${path}: keys`);
    for (const k of Object.keys(s)) assertSameShape(a[k], s[k], `${path}.${k}`);
  }
}

/** Checks an answer against the output the README shows for it. */
function assertLooksLikeShown(body: string, shownLines: string[], where: string): void {
  const shown = shownLines.join('\n');
  const actualKeys = keysIn(body);
  for (const key of keysIn(shown))
    assert.ok(actualKeys.has(key), `${where}: the README shows "${key}", the answer has no such key: ${body.slice(0, 500)}`);
  const actualTensors = tensorsIn(body);
  for (const t of tensorsIn(shown))
    assert.ok(actualTensors.includes(t), `${where}: the README shows tensor ${t}, the answer has ${actualTensors.join(', ')}`);
  const events = shownLines.filter((l) => l.startsWith('data: ')).length;
  if (events) assert.equal(body.split('\n').filter((l) => l.startsWith('data: ')).length, events, `${where}: server-sent events`);
  for (const l of shownLines) {
    const header = /^([A-Za-z][\w-]*): \S/.exec(l);
    if (header && !l.startsWith('data: ')) assert.match(body, new RegExp(`^${header[1]}:`, 'im'), `${where}: header ${header[1]}`);
  }
  let whole: unknown;
  try {
    whole = JSON.parse(shown.replace(/\s+\(.*\)\s*$/, ''));
  } catch {
    return; // abbreviated output: keys and tensors are what it shows
  }
  assertSameShape(JSON.parse(body), whole, where);
}

/**
 * `npm start`'s server command from package.json (what follows its build step, which `npm test`
 * has run): the environment it sets, and its arguments with paths from the repo root.
 */
function npmStart(): { args: string[]; env: Record<string, string> } {
  const script = (JSON.parse(readFileSync(repoPath('package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
  const words = script.split('&&').at(-1)!.trim().split(/\s+/);
  const env: Record<string, string> = {};
  while (/^[A-Z_]+=/.test(words[0]!)) {
    const [name, value] = words.shift()!.split('=');
    env[name!] = value!;
  }
  assert.deepEqual(words.slice(0, 2), ['node', 'dist/src/cli.js'], 'npm start runs the CLI');
  return { args: words.slice(2).map((a) => (a.startsWith('./') ? repoPath(a.slice(2)) : a)), env };
}

const PORTS = ['--http_port', '0', '--grpc_port', '0', '--host', '127.0.0.1'];

describe('README examples', () => {
  let npmStartServer: CliServer;
  let scratch: string;
  before(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'tsserve-readme-'));
    const { args, env } = npmStart();
    npmStartServer = await serveCli([...args, ...PORTS], env);
  });
  after(async () => {
    npmStartServer.child.kill('SIGTERM');
    await npmStartServer.exited;
    rmSync(scratch, { recursive: true, force: true });
  });

  it('finds every curl example, and skips only the blocks marked to be skipped', () => {
    const curlLines = README.split('\n').filter((l) => /^curl\s.*localhost:8080/.test(l)).length;
    const found = BLOCKS.flatMap((b) => b.commands.filter(isExample)).length;
    assert.equal(found, curlLines, 'every curl line of the README is in a shell block the test reads');
    const markers = README.split('\n').filter((l) => l.startsWith('<!-- readme-examples')).length;
    assert.equal(BLOCKS.filter((b) => b.skip).length, markers, 'every skip marker sits right above a block with a curl example');
    assert.ok(BLOCKS.filter((b) => !b.skip).length >= 8, 'the examples are run, not skipped');
  });

  for (const block of BLOCKS) {
    const title = `the block at README.md:${block.line}`;
    if (block.skip) {
      it(title, { skip: block.skip }, () => {});
      continue;
    }
    it(`${title} runs as written`, async () => {
      const local = (text: string) => text.replaceAll('/tmp/', `${scratch}/`);
      const setup: string[] = [];
      let server = npmStartServer;
      let own: CliServer | undefined;
      try {
        for (const command of block.commands) {
          const text = local(command.text);
          if (/^npx tsserve\s/.test(text)) {
            const args = text.split(/\s+/).slice(2);
            await run('bash', ['-c', setup.join('\n')], { cwd: repoPath() });
            own = server = await serveCli([...args, ...PORTS]);
          } else if (/^(npm|npx|docker|podman|kubectl)\s/.test(text)) {
            continue; // installing and starting what the test already started
          } else if (isExample(command)) {
            const where = `README.md:${block.line}, ${command.text.split('\n')[0]}`;
            const curl = `${text.replaceAll('localhost:8080', `127.0.0.1:${server.port}`)} -w '\\n@@status %{http_code}'`;
            const { stdout } = await run('bash', ['-c', [...setup, curl].join('\n')], { cwd: repoPath(), timeout: 60_000 });
            const at = stdout.lastIndexOf('\n@@status ');
            const status = Number(stdout.slice(at + 10).trim());
            const saved = /\s-o\s+(\S+)/.exec(text)?.[1]; // what -o wrote is part of the answer the README describes
            const body = stdout.slice(0, at) + (saved ? readFileSync(resolve(repoPath(), saved), 'latin1') : '');
            assert.ok(status >= 200 && status < 300, `${where}: HTTP ${status}: ${body.slice(0, 500)}`);
            if (command.shown.length) assertLooksLikeShown(body, command.shown, where);
          } else {
            setup.push(text);
          }
        }
      } finally {
        if (own) {
          own.child.kill('SIGTERM');
          await own.exited;
        }
      }
    });
  }
});
