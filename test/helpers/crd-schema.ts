/**
 * Checks a manifest against a CRD's OpenAPI v3 schema as the API server would with strict field
 * validation: types, required fields, enums, and unknown fields (which JSON-schema validators
 * let through, since CRDs do not say `additionalProperties: false`). KServe's CRDs come from
 * ../shared/kserve-crds.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { repoPath } from './server.js';

interface Schema {
  type?: string;
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  items?: Schema;
  required?: string[];
  enum?: unknown[];
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
}

export function crdSchema(file: string, version: string): Schema {
  const crd = parse(readFileSync(repoPath('..', 'shared', 'kserve-crds', file), 'utf8'));
  const v = crd.spec.versions.find((x: { name: string }) => x.name === version);
  return v.schema.openAPIV3Schema as Schema;
}

function typeOf(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (value === null) return 'null';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

export function validate(value: unknown, schema: Schema, path = '$'): string[] {
  const errors: string[] = [];
  const type = typeOf(value);
  if (schema['x-kubernetes-int-or-string']) {
    if (type !== 'integer' && type !== 'string') errors.push(`${path}: expected int or string, got ${type}`);
    return errors;
  }
  if (schema.type && !(schema.type === type || (schema.type === 'number' && type === 'integer'))) {
    return [`${path}: expected ${schema.type}, got ${type}`];
  }
  if (schema.enum && !schema.enum.includes(value)) errors.push(`${path}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`);
  if (type === 'array' && schema.items) (value as unknown[]).forEach((v, i) => errors.push(...validate(v, schema.items!, `${path}[${i}]`)));
  // ObjectMeta is validated by the API server itself; CRDs declare it as a bare object.
  if (type !== 'object' || path === '$.metadata') return errors;
  const object = value as Record<string, unknown>;
  for (const key of schema.required ?? []) if (!(key in object)) errors.push(`${path}.${key}: required`);
  for (const [key, v] of Object.entries(object)) {
    const sub = schema.properties?.[key] ?? (typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined);
    if (sub) errors.push(...validate(v, sub, `${path}.${key}`));
    else if (!schema['x-kubernetes-preserve-unknown-fields'] && schema.additionalProperties !== true) errors.push(`${path}.${key}: unknown field`);
  }
  return errors;
}
