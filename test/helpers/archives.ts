/**
 * Writes small .tar and .zip files byte by byte, so tests can make the archives that well-behaved
 * writers refuse to produce: `../` and absolute names, links pointing outside, device entries.
 */
import { crc32, gzipSync } from 'node:zlib';

export interface ArchiveEntry {
  path: string;
  /** File content; omitted for folders and links. */
  data?: string | Buffer;
  type?: 'file' | 'dir' | 'symlink' | 'hardlink' | 'chardev';
  /** Target of a link. */
  link?: string;
  mode?: number;
}

function octal(n: number, width: number): string {
  return `${n.toString(8).padStart(width - 1, '0')}\0`;
}

const TAR_TYPE = { file: '0', hardlink: '1', symlink: '2', chardev: '3', dir: '5' } as const;

function tarHeader(entry: ArchiveEntry, size: number): Buffer {
  const h = Buffer.alloc(512);
  const type = entry.type ?? 'file';
  h.write(entry.path, 0, 100, 'utf8');
  h.write(octal(entry.mode ?? (type === 'dir' ? 0o755 : 0o644), 8), 100);
  h.write(octal(0, 8), 108);
  h.write(octal(0, 8), 116);
  h.write(octal(size, 12), 124);
  h.write(octal(0, 12), 136);
  h.write(' '.repeat(8), 148);
  h.write(TAR_TYPE[type], 156);
  h.write(entry.link ?? '', 157, 100, 'utf8');
  h.write('ustar\0', 257);
  h.write('00', 263);
  const sum = h.reduce((a, b) => a + b, 0);
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return h;
}

export function makeTar(entries: readonly ArchiveEntry[], { gzip = false } = {}): Buffer {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    const data = Buffer.from(entry.data ?? '');
    blocks.push(tarHeader(entry, data.byteLength), data, Buffer.alloc((512 - (data.byteLength % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  const tar = Buffer.concat(blocks);
  return gzip ? gzipSync(tar) : tar;
}

export function makeZip(entries: readonly ArchiveEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const type = entry.type ?? 'file';
    const name = Buffer.from(type === 'dir' && !entry.path.endsWith('/') ? `${entry.path}/` : entry.path);
    const data = Buffer.from(type === 'symlink' ? (entry.link ?? '') : (entry.data ?? ''));
    const unixMode =
      (type === 'symlink' ? 0o120000 : type === 'dir' ? 0o040000 : 0o100000) | (entry.mode ?? (type === 'dir' ? 0o755 : 0o644));
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.byteLength, 18);
    local.writeUInt32LE(data.byteLength, 22);
    local.writeUInt16LE(name.byteLength, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by Unix, so the external attributes hold a mode
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.byteLength, 20);
    central.writeUInt32LE(data.byteLength, 24);
    central.writeUInt16LE(name.byteLength, 28);
    central.writeUInt32LE((unixMode << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, data);
    centrals.push(central, name);
    offset += local.byteLength + name.byteLength + data.byteLength;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.byteLength, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}
