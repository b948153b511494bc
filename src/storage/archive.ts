/**
 * Unpacks a model that arrived as one .tar, .tar.gz, .tgz or .zip, as KServe's initializer does,
 * but refusing (not skipping) any entry that would escape the destination: absolute paths, `..`,
 * links pointing outside, device files. Each archive is read twice: first every entry is checked,
 * then it is extracted, so a bad archive writes nothing. node-tar and yauzl are the maintained
 * readers (no `tar`/`unzip` binary is assumed in the image).
 */
import { createWriteStream } from 'node:fs';
import { chmod, mkdir, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar';
import yauzl from 'yauzl';
import { ArchiveError, StorageError, UnsafePathError } from './errors.js';
import { linkStaysInside, safeRelativePath } from './safe-path.js';

export type ArchiveKind = 'tar' | 'zip';

export function archiveKind(path: string): ArchiveKind | undefined {
  if (/\.(tar|tar\.gz|tgz)$/i.test(path)) return 'tar';
  if (/\.zip$/i.test(path)) return 'zip';
  return undefined;
}

function invalid(name: string, error: unknown): StorageError {
  if (error instanceof StorageError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  if (/invalid relative path|absolute path/i.test(detail)) return new UnsafePathError(`refusing archive ${name}: ${detail}`);
  return new ArchiveError(`Failed to unpack archive ${name}. The file format is not valid (${detail})`, error);
}

export async function extractArchive(file: string, dest: string, name: string): Promise<void> {
  const kind = archiveKind(name);
  try {
    if (kind === 'tar') await extractTar(file, dest, name);
    else if (kind === 'zip') await extractZip(file, dest, name);
  } catch (error) {
    throw invalid(name, error);
  }
}

// ---- tar ----

const TAR_CONTENT = new Set(['File', 'OldFile', 'ContiguousFile', 'Directory', 'SymbolicLink', 'Link']);
const TAR_REFUSED = new Set(['CharacterDevice', 'BlockDevice', 'FIFO']);

function checkTarEntry(entry: tar.ReadEntry, dest: string, name: string): void {
  const what = `entry in archive ${name}`;
  if (TAR_REFUSED.has(entry.type))
    throw new UnsafePathError(`refusing ${entry.type} '${entry.path}' in archive ${name}: only files, folders and links are extracted`);
  if (!TAR_CONTENT.has(entry.type)) return;
  const path = safeRelativePath(entry.path, what);
  if (entry.type === 'SymbolicLink' && !linkStaysInside(dest, path, entry.linkpath ?? '')) {
    throw new UnsafePathError(
      `refusing symlink '${entry.path}' -> '${entry.linkpath}' in archive ${name}: it points outside the destination folder`,
    );
  }
  if (entry.type === 'Link') safeRelativePath(entry.linkpath ?? '', `hard link target in archive ${name}`);
}

async function extractTar(file: string, dest: string, name: string): Promise<void> {
  let refused: Error | undefined;
  let entries = 0;
  await tar.t({
    file,
    strict: true,
    onReadEntry: (entry) => {
      entries++;
      try {
        if (refused === undefined) checkTarEntry(entry, dest, name);
      } catch (error) {
        refused = error instanceof Error ? error : new Error(String(error));
      }
    },
  });
  if (refused !== undefined) throw refused;
  if (entries === 0) throw new ArchiveError(`Failed to unpack archive ${name}. The file format is not valid (no entries)`);
  await tar.x({
    file,
    cwd: dest,
    strict: true,
    preserveOwner: false,
    filter: (_path, entry) => TAR_CONTENT.has((entry as tar.ReadEntry).type),
  });
}

// ---- zip ----

interface ZipItem {
  entry: yauzl.Entry;
  path: string;
  kind: 'file' | 'directory' | 'symlink';
  mode: number;
}

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;

function openZip(file: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) =>
    yauzl.open(file, { lazyEntries: true, autoClose: false, validateEntrySizes: true }, (error, zip) =>
      error ? reject(error) : resolve(zip),
    ),
  );
}

function readEntries(zip: yauzl.ZipFile): Promise<yauzl.Entry[]> {
  return new Promise((resolve, reject) => {
    const entries: yauzl.Entry[] = [];
    zip.on('entry', (entry: yauzl.Entry) => {
      entries.push(entry);
      zip.readEntry();
    });
    zip.once('end', () => resolve(entries));
    zip.once('error', reject);
    zip.readEntry();
  });
}

function openEntry(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<Readable> {
  return new Promise((resolve, reject) => zip.openReadStream(entry, (error, stream) => (error ? reject(error) : resolve(stream))));
}

async function readSmall(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function classifyZipEntry(entry: yauzl.Entry, name: string): ZipItem {
  const mode = (entry.externalFileAttributes >>> 16) & 0xffff;
  const isDir = entry.fileName.endsWith('/');
  const path = safeRelativePath(entry.fileName, `entry in archive ${name}`);
  const kind = isDir ? 'directory' : (mode & S_IFMT) === S_IFLNK ? 'symlink' : 'file';
  return { entry, path, kind, mode };
}

/** An entry under a path the archive itself makes a symlink could be written anywhere: refuse it (node-tar does the same). */
function refuseWritesThroughLinks(items: readonly ZipItem[], name: string): void {
  const links = new Set(items.filter((i) => i.kind === 'symlink').map((i) => i.path));
  for (const item of items) {
    const parts = item.path.split('/');
    for (let n = 1; n < parts.length; n++) {
      const ancestor = parts.slice(0, n).join('/');
      if (links.has(ancestor))
        throw new UnsafePathError(`refusing '${item.path}' in archive ${name}: it would be written through the symlink '${ancestor}'`);
    }
  }
}

async function extractZip(file: string, dest: string, name: string): Promise<void> {
  const zip = await openZip(file);
  try {
    const items = (await readEntries(zip)).map((e) => classifyZipEntry(e, name));
    if (items.length === 0) throw new ArchiveError(`Failed to unpack archive ${name}. The file format is not valid (no entries)`);
    refuseWritesThroughLinks(items, name);
    const targets = new Map<ZipItem, string>();
    for (const item of items.filter((i) => i.kind === 'symlink')) {
      const target = await readSmall(await openEntry(zip, item.entry));
      if (!linkStaysInside(dest, item.path, target)) {
        throw new UnsafePathError(
          `refusing symlink '${item.path}' -> '${target}' in archive ${name}: it points outside the destination folder`,
        );
      }
      targets.set(item, target);
    }
    for (const item of items) await writeZipItem(zip, item, dest, targets.get(item));
  } finally {
    zip.close();
  }
}

async function writeZipItem(zip: yauzl.ZipFile, item: ZipItem, dest: string, linkTarget: string | undefined): Promise<void> {
  const target = join(dest, item.path);
  if (item.kind === 'directory') {
    await mkdir(target, { recursive: true });
    return;
  }
  await mkdir(dirname(target), { recursive: true });
  if (item.kind === 'symlink') {
    await symlink(linkTarget!, target);
    return;
  }
  await pipeline(await openEntry(zip, item.entry), createWriteStream(target, { flags: 'wx' }));
  if (item.mode & 0o111) await chmod(target, 0o755);
}
