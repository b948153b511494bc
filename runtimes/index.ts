/**
 * The runtime adapters tsserve ships. The main thread only needs their names and how to
 * recognise their files to lay out the repository; the adapter itself (and its native
 * library) is imported inside the worker that runs it.
 */
import { looksLikeLightgbm } from './lightgbm/lightgbm-text.js';
import type { EnginePlan, Runtime } from './runtime.js';
import { sniffXgboost } from './xgboost/xgboost-file.js';

export interface RuntimeEntry {
  /** The format name used in settings files, --framework and KServe's modelFormat. */
  readonly name: string;
  /** Other names (Triton platform/backend names) that select this runtime in config.pbtxt. */
  readonly aliases: readonly string[];
  /** File extensions this runtime loads. */
  readonly fileExtensions: readonly string[];
  /** Preferred when a folder holds several of this runtime's files. */
  readonly defaultFileName: string;
  /**
   * Whether a file with one of the extensions is this runtime's, from its first bytes: several
   * formats share .json, .txt and .bst, and other files (config.json, README.txt) use them too.
   */
  recognizes?(fileName: string, head: Uint8Array): boolean;
  /** Files that mark a folder as this runtime's model; the folder itself is then the model path. */
  readonly folderMarkers?: readonly string[];
  importRuntime(): Promise<Runtime>;
  /** Set when a model of this runtime may run a generation engine (see EnginePlan). */
  enginePlan?(modelPath: string, parameters: Record<string, string>): Promise<EnginePlan | undefined>;
}

const ext = (fileName: string) => fileName.slice(fileName.lastIndexOf('.')).toLowerCase();
const latin1 = (head: Uint8Array) => new TextDecoder('latin1').decode(head);

export const RUNTIMES: readonly RuntimeEntry[] = [
  {
    name: 'onnx',
    aliases: ['onnxruntime', 'onnxruntime_onnx', 'onnx_onnxv1'],
    fileExtensions: ['.onnx'],
    defaultFileName: 'model.onnx',
    importRuntime: async () => (await import('./onnx/onnx-runtime.js')).onnxRuntime,
  },
  {
    name: 'sklearn',
    aliases: ['scikit-learn'],
    fileExtensions: ['.onnx', '.joblib', '.pkl', '.pickle'],
    defaultFileName: 'model.onnx',
    importRuntime: async () => (await import('./sklearn/sklearn-runtime.js')).sklearnRuntime,
  },
  {
    name: 'xgboost',
    aliases: [],
    fileExtensions: ['.json', '.ubj', '.bst', '.onnx'],
    defaultFileName: 'model.json',
    recognizes(fileName, head) {
      const e = ext(fileName);
      if (e === '.json') return sniffXgboost(head) === 'json' && latin1(head).includes('"learner"');
      if (e === '.ubj') return sniffXgboost(head) === 'ubjson';
      if (e === '.bst') return !looksLikeLightgbm(head); // JSON, UBJSON, or the legacy binary we explain
      return true;
    },
    importRuntime: async () => (await import('./xgboost/xgboost-runtime.js')).xgboostRuntime,
  },
  {
    name: 'lightgbm',
    aliases: [],
    fileExtensions: ['.txt', '.bst', '.onnx'],
    defaultFileName: 'model.txt',
    recognizes: (fileName, head) => ext(fileName) === '.onnx' || looksLikeLightgbm(head),
    importRuntime: async () => (await import('./lightgbm/lightgbm-runtime.js')).lightgbmRuntime,
  },
  {
    name: 'huggingface',
    aliases: ['transformers', 'transformersjs', 'huggingface_transformersjs'],
    fileExtensions: [],
    defaultFileName: 'config.json',
    folderMarkers: ['config.json'],
    importRuntime: async () => (await import('./huggingface/hf-runtime.js')).huggingfaceRuntime,
    enginePlan: async (path, parameters) => (await import('./huggingface/engine-plan.js')).hfEnginePlan(path, parameters),
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

export function runtimeNames(): string[] {
  return RUNTIMES.map((r) => r.name);
}

/** Whether `entry` loads this file: its extension, then its first bytes. */
export function loadsFile(entry: RuntimeEntry, fileName: string, head: Uint8Array): boolean {
  return entry.fileExtensions.includes(ext(fileName)) && (entry.recognizes?.(fileName, head) ?? true);
}

/** The runtime a file belongs to when no runtime is named; `.onnx` goes to the onnx runtime. */
export function runtimeForFile(fileName: string, head: Uint8Array): RuntimeEntry | undefined {
  return RUNTIMES.find((r) => loadsFile(r, fileName, head));
}

/** Whether a file name has an extension some runtime loads (before reading its bytes). */
export function hasModelExtension(fileName: string): boolean {
  return RUNTIMES.some((r) => r.fileExtensions.includes(ext(fileName)));
}
