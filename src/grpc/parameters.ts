/**
 * InferParameter (a oneof of bool, int64, string, double and uint64) to and from the internal
 * parameter values (string, number, boolean) that REST parameters also become.
 */
import { InvalidInputError } from '../core/errors.js';
import type { ParameterValue, Parameters } from '../core/inference.js';
import type { InferParameter, InferParameters } from './messages.js';

function valueOf(p: InferParameter, where: string): ParameterValue {
  switch (p.parameter_choice) {
    case 'bool_param':
      return p.bool_param!;
    case 'string_param':
      return p.string_param!;
    case 'double_param':
      return p.double_param!;
    case 'int64_param':
    case 'uint64_param': {
      const text = String(p[p.parameter_choice]);
      const n = Number(text);
      if (!Number.isSafeInteger(n)) {
        throw new InvalidInputError(
          `'${where}': ${p.parameter_choice} ${text} is beyond 2^53, the largest integer a parameter may carry here`,
        );
      }
      return n;
    }
    default:
      throw new InvalidInputError(
        `'${where}' has no value: set one of bool_param, int64_param, string_param, double_param or uint64_param`,
      );
  }
}

/** `where` names the map in errors, e.g. "parameters" or "outputs[0].parameters". */
export function fromInferParameters(map: InferParameters | undefined, where: string): Parameters {
  const out: Parameters = {};
  for (const [key, p] of Object.entries(map ?? {})) out[key] = valueOf(p, `${where}.${key}`);
  return out;
}

export function toInferParameters(parameters: Parameters | undefined): InferParameters {
  const out: InferParameters = {};
  for (const [key, v] of Object.entries(parameters ?? {})) {
    if (typeof v === 'boolean') out[key] = { bool_param: v };
    else if (typeof v === 'string') out[key] = { string_param: v };
    else if (Number.isSafeInteger(v)) out[key] = { int64_param: v };
    else out[key] = { double_param: v };
  }
  return out;
}
