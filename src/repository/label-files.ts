/**
 * Class labels for Triton's classification extension: each output's `label_filename` in
 * config.pbtxt names a file in the model folder with one label per line (line i labels index i).
 */
import { readFile } from 'node:fs/promises';
import { isAbsolute, join, normalize, sep } from 'node:path';
import type { OutputLabels } from '../core/classification.js';
import type { JsonObject } from '../model-config/config-schema.js';
import { ModelConfigError } from '../model-config/model-config.js';

function labelFile(output: JsonObject): { name: string; file: string } | undefined {
  const name = output['name'];
  const file = output['label_filename'];
  if (typeof name !== 'string' || typeof file !== 'string' || file === '') return undefined;
  // A config can arrive over the wire (a load with parameters.config): it may not read outside the folder.
  const clean = normalize(file);
  if (isAbsolute(clean) || clean === '..' || clean.startsWith(`..${sep}`)) {
    throw new ModelConfigError(`output '${name}': label_filename '${file}' must name a file inside the model folder`);
  }
  return { name, file: clean };
}

/** The labels of every output that names a label file; read at model load. */
export async function readOutputLabels(dir: string, config: JsonObject): Promise<OutputLabels | undefined> {
  const outputs = ((config['output'] ?? []) as unknown[]).filter((o): o is JsonObject => typeof o === 'object' && o !== null);
  const files = outputs.map(labelFile).filter((f) => f !== undefined);
  if (!files.length) return undefined;
  const labels: Record<string, string[]> = {};
  for (const { name, file } of files) {
    let text: string;
    try {
      text = await readFile(join(dir, file), 'utf8');
    } catch (error) {
      throw new ModelConfigError(`output '${name}': cannot read label_filename '${file}': ${(error as Error).message}`);
    }
    // As std::getline: a final newline ends the last label rather than starting an empty one.
    const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
    if (lines.at(-1) === '') lines.pop();
    labels[name] = lines;
  }
  return labels;
}
