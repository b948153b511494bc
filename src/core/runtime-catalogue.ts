/**
 * The runtimes a server was composed with, and the lookups the repository needs to lay out
 * model folders: by name or alias, by file (extension, then first bytes), by a folder's marker
 * file. The list comes from the composition root (runtimes/index.ts via src/app.ts), so nothing
 * in src/ imports an adapter.
 */
import type { RuntimeEntry, WorkerRuntime } from './runtime.js';

const ext = (fileName: string) => fileName.slice(fileName.lastIndexOf('.')).toLowerCase();

/** Whether `entry` loads this file: its extension, then its first bytes. */
export function loadsFile(entry: RuntimeEntry, fileName: string, head: Uint8Array): boolean {
  return entry.fileExtensions.includes(ext(fileName)) && (entry.recognizes?.(fileName, head) ?? true);
}

export class RuntimeCatalogue {
  constructor(readonly entries: readonly RuntimeEntry[]) {}

  names(): string[] {
    return this.entries.map((r) => r.name);
  }

  byName(name: string): RuntimeEntry | undefined {
    const lower = name.toLowerCase();
    return this.entries.find((r) => r.name === lower || r.aliases.includes(lower));
  }

  /** The runtime whose marker file `files` (a folder's listing) holds, if any. */
  forFolder(files: readonly string[]): RuntimeEntry | undefined {
    return this.entries.find((r) => r.folderMarkers?.some((m) => files.includes(m)));
  }

  /** The runtime a file belongs to when no runtime is named; `.onnx` goes to the onnx runtime. */
  forFile(fileName: string, head: Uint8Array): RuntimeEntry | undefined {
    return this.entries.find((r) => loadsFile(r, fileName, head));
  }

  /** Whether a file name has an extension some runtime loads (before reading its bytes). */
  hasModelExtension(fileName: string): boolean {
    return this.entries.some((r) => r.fileExtensions.includes(ext(fileName)));
  }

  /** What a worker needs to import the runtime `name`. */
  worker(name: string): WorkerRuntime {
    const entry = this.byName(name);
    if (!entry) throw new Error(`unknown runtime '${name}'`);
    return { runtimeModule: entry.module, runtimeExport: entry.exportName, ...(entry.enginePlan ? { enginePlan: entry.enginePlan } : {}) };
  }
}
