/**
 * Where models live in --model_dir. Two layouts, as KServe's and Triton's users expect:
 * one model file at the top level (served as --model_name), or one folder per model holding
 * `model.onnx` or Triton's numeric version folders `<name>/<version>/model.onnx`.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type RuntimeEntry, runtimeByName, runtimeForFile, runtimeForFolder } from '../../runtimes/index.js';
import { CONFIG_FILE, DEFAULT_CONFIG, type ModelConfig, parseModelConfig } from './model-config.js';

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

/** `file` is the model file, or '.' when model_dir itself is a model folder (Hugging Face). */
export type RepositoryLayout = { kind: 'single'; file: string } | { kind: 'folders'; names: string[] };

/** Reads the top of the model directory. */
export async function readLayout(modelDir: string): Promise<RepositoryLayout> {
  const { files, dirs } = await entries(modelDir);
  const modelFiles = files.filter((f) => runtimeForFile(f));
  if (modelFiles.length > 1) {
    throw new ModelLayoutError(
      `more than one model file in ${modelDir}: ${modelFiles.join(', ')}; put each model in a folder of its own`,
    );
  }
  if (modelFiles.length === 1) return { kind: 'single', file: modelFiles[0]! };
  // KServe's storage initializer puts a Hugging Face model's files straight into /mnt/models.
  if (runtimeForFolder(files)) return { kind: 'single', file: '.' };
  return { kind: 'folders', names: dirs };
}

async function readConfig(dir: string): Promise<ModelConfig> {
  let text: string;
  try {
    text = await readFile(join(dir, CONFIG_FILE), 'utf8');
  } catch {
    return DEFAULT_CONFIG;
  }
  return parseModelConfig(text);
}

function pickRuntime(config: ModelConfig, fileName: string): RuntimeEntry {
  const entry = config.runtime ? runtimeByName(config.runtime) : runtimeForFile(fileName);
  if (!entry) {
    throw new ModelLayoutError(
      config.runtime ? `unsupported platform/backend '${config.runtime}'` : `no runtime serves '${fileName}'`,
    );
  }
  return entry;
}

/** Finds the model file of one version folder (or of an unversioned model folder). */
async function findModelFile(dir: string, config: ModelConfig): Promise<string | undefined> {
  const { files } = await entries(dir);
  const wanted = config.defaultModelFilename
    ?? (config.runtime ? runtimeByName(config.runtime)?.defaultFileName : undefined);
  if (wanted) return files.includes(wanted) ? wanted : undefined;
  const candidates = files.filter((f) => runtimeForFile(f));
  if (candidates.length > 1) throw new ModelLayoutError(`more than one model file in ${dir}: ${candidates.join(', ')}`);
  return candidates[0];
}

function applyPolicy(config: ModelConfig, versions: number[]): number[] {
  const policy = config.versionPolicy;
  if (policy.kind === 'all') return versions;
  if (policy.kind === 'specific') return versions.filter((v) => policy.versions.includes(v));
  return versions.slice(-policy.count);
}

/** The runtime that takes this whole folder as its model (a Hugging Face folder), if one does. */
function folderRuntime(files: readonly string[], config: ModelConfig): RuntimeEntry | undefined {
  const named = config.runtime ? runtimeByName(config.runtime) : undefined;
  if (named) return named.folderMarkers ? named : undefined;
  if (files.some((f) => runtimeForFile(f))) return undefined;
  return runtimeForFolder(files);
}

async function versionSource(dir: string, version: string, config: ModelConfig): Promise<VersionSource | undefined> {
  const { files } = await entries(dir);
  const whole = folderRuntime(files, config);
  if (whole) return whole.folderMarkers!.some((m) => files.includes(m)) ? { version, file: dir, runtime: whole.name } : undefined;
  const file = await findModelFile(dir, config);
  if (!file) return undefined;
  return { version, file: join(dir, file), runtime: pickRuntime(config, file).name };
}

/** Reads one model folder: its config and the versions its policy selects. */
export async function readModelFolder(name: string, dir: string): Promise<ModelSource> {
  const config = await readConfig(dir);
  const { dirs } = await entries(dir);
  const numeric = dirs.filter((d) => /^\d+$/.test(d)).map(Number).sort((a, b) => a - b);
  const versions: VersionSource[] = [];
  if (numeric.length) {
    for (const v of applyPolicy(config, numeric)) {
      const source = await versionSource(join(dir, String(v)), String(v), config);
      if (source) versions.push(source);
    }
  } else {
    const source = await versionSource(dir, '1', config);
    if (source) versions.push(source);
  }
  if (!versions.length) throw new ModelLayoutError(`no model file found for model '${name}' in ${dir}`);
  return { name, config, versions };
}

/** The single top-level model file, served as `name`. */
export async function readSingleFile(name: string, modelDir: string, file: string): Promise<ModelSource> {
  const config = await readConfig(modelDir);
  if (file === '.') {
    const source = await versionSource(modelDir, '1', config);
    if (!source) throw new ModelLayoutError(`no model found in ${modelDir}`);
    return { name, config, versions: [source] };
  }
  return {
    name,
    config,
    versions: [{ version: '1', file: join(modelDir, file), runtime: pickRuntime(config, file).name }],
  };
}
