/**
 * Checks of the datatype and shape a frontend read for one input tensor, with one wording
 * whichever wire carried them. `what` names the tensor, e.g. "input 'x'".
 */
import { InvalidInputError } from './errors.js';
import { type DataType, isDataType } from './tensor.js';

export function parseDatatype(value: unknown, what: string): DataType {
  if (!isDataType(value)) {
    throw new InvalidInputError(
      `${what}: 'datatype' must be one of BOOL, UINT8..UINT64, INT8..INT64, FP16, FP32, FP64, BYTES; got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/** A request shape: concrete dims only, so no -1. */
export function parseShape(value: unknown, what: string): number[] {
  if (!Array.isArray(value) || !value.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new InvalidInputError(`${what}: 'shape' must be an array of non-negative integers, got ${JSON.stringify(value)}`);
  }
  return value as number[];
}
