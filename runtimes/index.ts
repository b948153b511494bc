/**
 * The runtime adapters tsserve ships. The main thread only needs their names, flags and how to
 * recognise their files to lay out the repository; the adapter itself (and its native
 * library) is imported, from `module`, inside the worker that runs it.
 */
import type { RuntimeEntry, WorkerRuntime } from '../src/core/runtime.js';
import { HF_FLAGS } from './huggingface/hf-flags.js';
import { looksLikeLightgbm } from './lightgbm/lightgbm-text.js';
import { PREDICTIVE_FLAGS } from './predictive/predictive-flags.js';
import { sniffXgboost } from './xgboost/xgboost-file.js';

export type { RuntimeEntry } from '../src/core/runtime.js';

const ext = (fileName: string) => fileName.slice(fileName.lastIndexOf('.')).toLowerCase();
const latin1 = (head: Uint8Array) => new TextDecoder('latin1').decode(head);

export const RUNTIMES: readonly RuntimeEntry[] = [
  {
    name: 'onnx',
    aliases: ['onnxruntime', 'onnxruntime_onnx', 'onnx_onnxv1'],
    fileExtensions: ['.onnx'],
    defaultFileName: 'model.onnx',
    flags: [],
    module: new URL('./onnx/onnx-runtime.js', import.meta.url).href,
    exportName: 'onnxRuntime',
  },
  {
    name: 'sklearn',
    aliases: ['scikit-learn'],
    fileExtensions: ['.onnx', '.joblib', '.pkl', '.pickle'],
    defaultFileName: 'model.onnx',
    flags: PREDICTIVE_FLAGS,
    module: new URL('./sklearn/sklearn-runtime.js', import.meta.url).href,
    exportName: 'sklearnRuntime',
  },
  {
    name: 'xgboost',
    aliases: [],
    fileExtensions: ['.json', '.ubj', '.bst', '.onnx'],
    defaultFileName: 'model.json',
    flags: PREDICTIVE_FLAGS,
    recognizes(fileName, head) {
      const e = ext(fileName);
      if (e === '.json') return sniffXgboost(head) === 'json' && latin1(head).includes('"learner"');
      if (e === '.ubj') return sniffXgboost(head) === 'ubjson';
      if (e === '.bst') return !looksLikeLightgbm(head); // JSON, UBJSON, or the legacy binary we explain
      return true;
    },
    module: new URL('./xgboost/xgboost-runtime.js', import.meta.url).href,
    exportName: 'xgboostRuntime',
  },
  {
    name: 'lightgbm',
    aliases: [],
    fileExtensions: ['.txt', '.bst', '.onnx'],
    defaultFileName: 'model.txt',
    flags: PREDICTIVE_FLAGS,
    recognizes: (fileName, head) => ext(fileName) === '.onnx' || looksLikeLightgbm(head),
    module: new URL('./lightgbm/lightgbm-runtime.js', import.meta.url).href,
    exportName: 'lightgbmRuntime',
  },
  {
    name: 'huggingface',
    aliases: ['transformers', 'transformersjs', 'huggingface_transformersjs'],
    fileExtensions: [],
    defaultFileName: 'config.json',
    folderMarkers: ['config.json'],
    flags: HF_FLAGS,
    module: new URL('./huggingface/hf-runtime.js', import.meta.url).href,
    exportName: 'huggingfaceRuntime',
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

/** What a worker needs to import the runtime `name` (a shipped one's name). */
export function workerRuntime(name: string): WorkerRuntime {
  const entry = runtimeByName(name);
  if (!entry) throw new Error(`unknown runtime '${name}'`);
  return { runtimeModule: entry.module, runtimeExport: entry.exportName, ...(entry.enginePlan ? { enginePlan: entry.enginePlan } : {}) };
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

/** Every shipped runtime's flags, each once (several runtimes share the predictive ones). */
export const RUNTIME_FLAGS = [...PREDICTIVE_FLAGS, ...HF_FLAGS] as const;
