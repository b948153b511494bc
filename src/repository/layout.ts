/**
 * Where models live in --model_dir. Two layouts, as KServe's and Triton's users expect:
 * one model file at the top level (served as --model_name), or one folder per model holding
 * its model file or Triton's numeric version folders `<name>/<version>/model.onnx`.
 * A model's runtime is the one its config.pbtxt names, else --framework, else its file's:
 * by extension, and for extensions several formats share (.json, .txt, .bst) by content.
 */
import { open, readdir, readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { RuntimeEntry } from '../core/runtime.js';
import { type RuntimeCatalogue, loadsFile } from '../core/runtime-catalogue.js';
import { CONFIG_FILE, DEFAULT_CONFIG, type ModelConfig, parseModelConfig } from '../model-config/model-config.js';
import { readOutputLabels } from './label-files.js';

/** What reading a model folder depends on besides the disk: --framework and the runtimes composed in. */
export interface LayoutContext {
  framework?: string;
  runtimes: RuntimeCatalogue;
}

export interface VersionSource {
  version: string;
  file: string;
  runtime: string;
}

export interface ModelSource {
  name: string;
  config: ModelConfig;
  /** Versions to serve under the config's version policy, lowest first. */
  versions: VersionSource[];
}

export class ModelLayoutError extends Error {
  override name = 'ModelLayoutError';
}

async function entries(dir: string): Promise<{ files: string[]; dirs: string[] }> {
  const list = await readdir(dir, { withFileTypes: true });
  const files: string[] = [];
  const dirs: string[] = [];
  for (const e of list) {
    if (e.name.startsWith('.')) continue;
    // Follow symlinks: Kubernetes mounts ConfigMaps and volumes through them.
    const s = e.isSymbolicLink() ? await stat(join(dir, e.name)).catch(() => undefined) : e;
    if (s?.isFile()) files.push(e.name);
    else if (s?.isDirectory()) dirs.push(e.name);
  }
  return { files: files.sort(), dirs: dirs.sort() };
}

/**
 * `single`: one model file in model_dir (`file`), or model_dir is a Hugging Face folder ('.'),
 * served as --model_name. `model`: model_dir is one Triton model folder (config.pbtxt, version
 * folders), served under its folder name. `folders`: a repository of model folders.
 */
export type RepositoryLayout = { kind: 'single'; file: string } | { kind: 'model' } | { kind: 'folders'; names: string[] };

const HEAD_BYTES = 256;

async function readHead(path: string): Promise<Uint8Array> {
  const file = await open(path, 'r');
  try {
    const head = new Uint8Array(HEAD_BYTES);
    const { bytesRead } = await file.read(head, 0, HEAD_BYTES, 0);
    return head.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
}

/**
 * The runtime a model names: config.pbtxt's platform/backend, else --framework; undefined
 * when neither does (the file decides).
 */
function namedRuntime(config: ModelConfig, ctx: LayoutContext): RuntimeEntry | undefined {
  const name = config.runtime ?? (ctx.framework || undefined);
  if (name === undefined) return undefined;
  const entry = ctx.runtimes.byName(name);
  if (!entry) {
    const source = config.runtime ? 'platform/backend' : '--framework';
    throw new ModelLayoutError(`unsupported ${source} '${name}'; tsserve serves ${ctx.runtimes.names().join(', ')}`);
  }
  return entry;
}

interface ModelFile {
  file: string;
  runtime: RuntimeEntry;
}

/** The files of `dir` that are models: of the named runtime, or of any when none is named. */
async function modelFiles(
  dir: string,
  files: string[],
  runtime: RuntimeEntry | undefined,
  runtimes: RuntimeCatalogue,
): Promise<ModelFile[]> {
  const found: ModelFile[] = [];
  for (const file of files.filter((f) => runtimes.hasModelExtension(f))) {
    const head = await readHead(join(dir, file));
    const entry = runtime ? (loadsFile(runtime, file, head) ? runtime : undefined) : runtimes.forFile(file, head);
    if (entry) found.push({ file, runtime: entry });
  }
  return found;
}

/** Reads the top of the model directory. */
export async function readLayout(modelDir: string, ctx: LayoutContext): Promise<RepositoryLayout> {
  const { files, dirs } = await entries(modelDir);
  const modelFilesHere = await modelFiles(modelDir, files, namedRuntime(DEFAULT_CONFIG, ctx), ctx.runtimes);
  if (modelFilesHere.length > 1) {
    throw new ModelLayoutError(
      `more than one model file in ${modelDir}: ${modelFilesHere.map((m) => m.file).join(', ')}; put each model in a folder of its own`,
    );
  }
  if (modelFilesHere.length === 1) return { kind: 'single', file: modelFilesHere[0]!.file };
  // KServe's storage initializer puts a Hugging Face model's files straight into /mnt/models.
  if (ctx.runtimes.forFolder(files)) return { kind: 'single', file: '.' };
  if (files.includes(CONFIG_FILE) || (dirs.length && dirs.every((d) => /^\d+$/.test(d)))) return { kind: 'model' };
  // Nothing but files no runtime recognises: say what is wrong with them rather than serve nothing.
  const unrecognised = files.find((f) => ctx.runtimes.hasModelExtension(f));
  if (!dirs.length && unrecognised) throw notAModel(join(modelDir, unrecognised), ctx.runtimes);
  return { kind: 'folders', names: dirs };
}

async function readConfig(dir: string): Promise<ModelConfig> {
  let text: string;
  try {
    text = await readFile(join(dir, CONFIG_FILE), 'utf8');
  } catch {
    return DEFAULT_CONFIG;
  }
  const config = parseModelConfig(text);
  return { ...config, outputLabels: await readOutputLabels(dir, config.proto) };
}

const FORMAT_NAMES: Readonly<Record<string, string>> = {
  onnx: 'ONNX',
  sklearn: 'scikit-learn ONNX',
  xgboost: 'XGBoost',
  lightgbm: 'LightGBM',
};

/** A file with a model's extension that no runtime recognises by its content. */
function notAModel(path: string, runtimes: RuntimeCatalogue): ModelLayoutError {
  const extension = extname(path).toLowerCase();
  const formats = [
    ...new Set(runtimes.entries.filter((r) => r.fileExtensions.includes(extension)).map((r) => FORMAT_NAMES[r.name] ?? r.name)),
  ];
  return new ModelLayoutError(
    `${path} is not a valid ${formats.join(' or ')} model file; check that it is whole and was saved by that library`,
  );
}

function wantedFiles(runtime: RuntimeEntry | undefined, runtimes: RuntimeCatalogue): string {
  const extensions = runtime ? runtime.fileExtensions : [...new Set(runtimes.entries.flatMap((r) => r.fileExtensions))];
  return `${runtime ? `runtime '${runtime.name}'` : 'tsserve'} loads ${extensions.join(', ')} files`;
}

/** Finds the model file of one version folder (or of an unversioned model folder). */
async function findModelFile(dir: string, config: ModelConfig, ctx: LayoutContext): Promise<ModelFile | undefined> {
  const named = namedRuntime(config, ctx);
  const { files } = await entries(dir);
  if (config.defaultModelFilename !== undefined) {
    const file = config.defaultModelFilename;
    if (!files.includes(file)) return undefined;
    const runtime = named ?? ctx.runtimes.forFile(file, await readHead(join(dir, file)));
    if (!runtime) throw notAModel(join(dir, file), ctx.runtimes);
    return { file, runtime };
  }
  const candidates = await modelFiles(dir, files, named, ctx.runtimes);
  const unrecognised = files.find((f) => ctx.runtimes.hasModelExtension(f));
  if (!candidates.length && unrecognised && !named) throw notAModel(join(dir, unrecognised), ctx.runtimes);
  if (candidates.length > 1) {
    const preferred = named && candidates.find((c) => c.file === named.defaultFileName);
    if (preferred) return preferred;
    throw new ModelLayoutError(`more than one model file in ${dir}: ${candidates.map((c) => c.file).join(', ')}`);
  }
  return candidates[0];
}

function applyPolicy(config: ModelConfig, versions: number[]): number[] {
  const policy = config.versionPolicy;
  if (policy.kind === 'all') return versions;
  if (policy.kind === 'specific') return versions.filter((v) => policy.versions.includes(v));
  return versions.slice(-policy.count);
}

/** The runtime that takes this whole folder as its model (a Hugging Face folder), if one does. */
async function folderRuntime(dir: string, files: string[], config: ModelConfig, ctx: LayoutContext): Promise<RuntimeEntry | undefined> {
  const named = namedRuntime(config, ctx);
  if (named) return named.folderMarkers ? named : undefined;
  if ((await modelFiles(dir, files, undefined, ctx.runtimes)).length) return undefined;
  return ctx.runtimes.forFolder(files);
}

async function versionSource(dir: string, version: string, config: ModelConfig, ctx: LayoutContext): Promise<VersionSource | undefined> {
  const { files } = await entries(dir);
  const whole = await folderRuntime(dir, files, config, ctx);
  if (whole) return whole.folderMarkers!.some((m) => files.includes(m)) ? { version, file: dir, runtime: whole.name } : undefined;
  const found = await findModelFile(dir, config, ctx);
  return found && { version, file: join(dir, found.file), runtime: found.runtime.name };
}

/** Reads one model folder: its config (or `override`, replacing config.pbtxt) and the versions its policy selects. */
export async function readModelFolder(name: string, dir: string, ctx: LayoutContext, override?: ModelConfig): Promise<ModelSource> {
  const config = override ?? (await readConfig(dir));
  const { dirs } = await entries(dir);
  const numeric = dirs
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .sort((a, b) => a - b);
  const versions: VersionSource[] = [];
  if (numeric.length) {
    for (const v of applyPolicy(config, numeric)) {
      const source = await versionSource(join(dir, String(v)), String(v), config, ctx);
      if (source) versions.push(source);
    }
  } else {
    const source = await versionSource(dir, '1', config, ctx);
    if (source) versions.push(source);
  }
  if (!versions.length) {
    throw new ModelLayoutError(
      `no model file found for model '${name}' in ${dir} (${wantedFiles(namedRuntime(config, ctx), ctx.runtimes)})`,
    );
  }
  return { name, config, versions };
}

/** The single top-level model file, served as `name`. */
export async function readSingleFile(
  name: string,
  modelDir: string,
  file: string,
  ctx: LayoutContext,
  override?: ModelConfig,
): Promise<ModelSource> {
  const config = override ?? (await readConfig(modelDir));
  if (file === '.') {
    const source = await versionSource(modelDir, '1', config, ctx);
    if (!source) throw new ModelLayoutError(`no model found in ${modelDir}`);
    return { name, config, versions: [source] };
  }
  const found = await findModelFile(modelDir, { ...config, defaultModelFilename: file }, ctx);
  if (!found) throw new ModelLayoutError(`model file ${file} disappeared from ${modelDir}`);
  return { name, config, versions: [{ version: '1', file: join(modelDir, file), runtime: found.runtime.name }] };
}
