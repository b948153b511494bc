/**
 * The runtime adapters tsserve ships. The main thread only needs their names and file
 * extensions to lay out the repository; the adapter itself (and its native library) is
 * imported inside the worker that runs it.
 */
import type { Runtime } from './runtime.js';

export interface RuntimeEntry {
  /** The format name used in settings files and KServe's modelFormat. */
  readonly name: string;
  /** Triton platform/backend names that select this runtime in config.pbtxt. */
  readonly aliases: readonly string[];
  /** File names this runtime picks up when a model does not name its runtime. */
  readonly fileExtensions: readonly string[];
  readonly defaultFileName: string;
  /** Files that mark a folder as this runtime's model; the folder itself is then the model path. */
  readonly folderMarkers?: readonly string[];
  importRuntime(): Promise<Runtime>;
}

export const RUNTIMES: readonly RuntimeEntry[] = [
  {
    name: 'onnx',
    aliases: ['onnxruntime', 'onnxruntime_onnx', 'onnx_onnxv1'],
    fileExtensions: ['.onnx'],
    defaultFileName: 'model.onnx',
    importRuntime: async () => (await import('./onnx/onnx-runtime.js')).onnxRuntime,
  },
  {
    name: 'huggingface',
    aliases: ['transformers', 'transformersjs', 'huggingface_transformersjs'],
    fileExtensions: [],
    defaultFileName: 'config.json',
    folderMarkers: ['config.json'],
    importRuntime: async () => (await import('./huggingface/hf-runtime.js')).huggingfaceRuntime,
  },
];

/** The runtime whose marker file `files` (a folder's listing) holds, if any. */
export function runtimeForFolder(files: readonly string[]): RuntimeEntry | undefined {
  return RUNTIMES.find((r) => r.folderMarkers?.some((m) => files.includes(m)));
}

export function runtimeByName(name: string): RuntimeEntry | undefined {
  const lower = name.toLowerCase();
  return RUNTIMES.find((r) => r.name === lower || r.aliases.includes(lower));
}

export function runtimeForFile(fileName: string): RuntimeEntry | undefined {
  const lower = fileName.toLowerCase();
  return RUNTIMES.find((r) => r.fileExtensions.some((ext) => lower.endsWith(ext)));
}
