/**
 * Whether a Hugging Face folder is served by a generation engine, read from config.json on the
 * main thread before any worker starts: an engine batches its own sequences, so it wants one
 * worker with every thread rather than several workers each holding a copy of the weights.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EnginePlan } from '../../src/core/runtime.js';
import type { HfConfig } from './hf-folder.js';
import { parseHfOptions } from './hf-options.js';
import { inferTask } from './hf-tasks.js';

export async function hfEnginePlan(modelDir: string, parameters: Record<string, string>): Promise<EnginePlan | undefined> {
  try {
    const options = parseHfOptions(parameters);
    const config = JSON.parse(await readFile(join(modelDir, 'config.json'), 'utf8')) as HfConfig;
    const task = options.task ?? inferTask(config);
    if (task !== 'text_generation' && task !== 'text2text_generation') return undefined;
    return { maxNumSeqs: options.engine.maxNumSeqs };
  } catch {
    return undefined; // the load in the worker reports what is wrong with the folder
  }
}
