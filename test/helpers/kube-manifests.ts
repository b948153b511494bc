/**
 * Kubernetes manifests for tests: read them as the API server's YAML reader would (YAML 1.1, so
 * an unquoted `yes` or `8080` is not a string), and validate custom resources against the
 * openAPIV3Schema of KServe's CRDs with ajv, closer to `kubectl apply` than a plain schema check:
 * - unknown fields are errors (kubectl's default strict field validation), so objects with
 *   `properties` and no `additionalProperties` / `x-kubernetes-preserve-unknown-fields` are closed;
 * - `x-kubernetes-list-type: map` lists may not repeat their keys, `set` lists their items;
 * - integer formats int32/int64 are range-checked.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { parseAllDocuments } from 'yaml';

export interface Manifest {
  /** Path relative to the folder the manifests were read from, then `#index` in the file. */
  source: string;
  doc: any;
}

export function yamlFilesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && /\.ya?ml$/.test(e.name))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/** Every document of every YAML file under `dir`; a YAML error or warning throws, naming the file. */
export function readManifests(dir: string): Manifest[] {
  const out: Manifest[] = [];
  for (const file of yamlFilesUnder(dir)) {
    const docs = parseAllDocuments(readFileSync(file, 'utf8'), { version: '1.1', uniqueKeys: true });
    if (!Array.isArray(docs)) throw new Error(`${file}: not a YAML stream`);
    docs.forEach((d, i) => {
      const problems = [...d.errors, ...d.warnings];
      if (problems.length) throw new Error(`${file}#${i}: ${problems.map((p) => p.message).join('; ')}`);
      const doc = d.toJS();
      if (doc !== null) out.push({ source: `${relative(dir, file)}#${i}`, doc });
    });
  }
  return out;
}

const KUBERNETES_KEYWORDS = [
  'x-kubernetes-int-or-string',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-embedded-resource',
  'x-kubernetes-map-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-validations',
];

type Schema = Record<string, any>;

/** A copy of `schema` with `fn` applied to each direct subschema (where JSON Schema nests them). */
function mapChildren(schema: Schema, fn: (s: Schema) => Schema): Schema {
  const out: Schema = { ...schema };
  const map = (s: unknown) => (s !== null && typeof s === 'object' ? fn(s as Schema) : s);
  if (out.properties) out.properties = Object.fromEntries(Object.entries(out.properties).map(([k, v]) => [k, map(v)]));
  for (const k of ['items', 'additionalProperties', 'not']) if (out[k] !== undefined) out[k] = map(out[k]);
  for (const k of ['anyOf', 'allOf', 'oneOf']) if (Array.isArray(out[k])) out[k] = out[k].map(map);
  return out;
}

/** Rebuilds a schema bottom-up, applying `fn` to every subschema and then to the schema itself. */
function mapSchema(schema: Schema, fn: (s: Schema) => Schema): Schema {
  return fn(mapChildren(schema, (child) => mapSchema(child, fn)));
}

/** Closes every object schema that Kubernetes would not let carry unknown fields. */
function closeObjects(schema: Schema): Schema {
  return mapSchema(schema, (s) =>
    s.properties && s.additionalProperties === undefined && s['x-kubernetes-preserve-unknown-fields'] !== true
      ? { ...s, additionalProperties: false }
      : s,
  );
}

/**
 * Moves subschemas that occur more than once into $defs and refers to them. The InferenceService
 * CRD repeats a whole PodSpec for predictor, transformer, explainer and canary (636 kB): ajv
 * compiles it in about 8 s, and in under 1 s once each repeat is compiled once.
 */
function hoistRepeats(root: Schema): Schema {
  const counts = new Map<string, number>();
  mapSchema(root, (s) => {
    const key = JSON.stringify(s);
    if (key.length > 400) counts.set(key, (counts.get(key) ?? 0) + 1);
    return s;
  });
  const defs: Record<string, Schema> = {};
  const names = new Map<string, string>();
  // Top-down, so the largest repeat is hoisted whole, with its own repeats as references inside.
  const visit = (s: Schema): Schema => {
    const key = JSON.stringify(s);
    if ((counts.get(key) ?? 0) < 2) return mapChildren(s, visit);
    let name = names.get(key);
    if (!name) {
      name = `repeat${names.size}`;
      names.set(key, name);
      defs[name] = mapChildren(s, visit);
    }
    return { $ref: `#/$defs/${name}` };
  };
  return { ...mapChildren(root, visit), $defs: defs };
}

/** The identity of a list item under x-kubernetes-list-map-keys, with the schema's defaults filled in. */
function mapKey(item: any, keys: string[], itemSchema: any): string {
  return JSON.stringify(keys.map((k) => item?.[k] ?? itemSchema?.properties?.[k]?.default ?? null));
}

function createAjv(): Ajv {
  const ajv = new Ajv({ strict: false, allErrors: true, inlineRefs: false, code: { optimize: false } });
  ajv.addVocabulary(KUBERNETES_KEYWORDS);
  ajv.addKeyword({
    keyword: 'x-kubernetes-list-type',
    type: 'array',
    schemaType: 'string',
    validate: function listType(kind: string, data: unknown[], parentSchema: any) {
      let ids: string[];
      if (kind === 'map') ids = data.map((item) => mapKey(item, parentSchema['x-kubernetes-list-map-keys'] ?? [], parentSchema.items));
      else if (kind === 'set') ids = data.map((item) => JSON.stringify(item));
      else return true;
      const seen = new Set<string>();
      const duplicate = ids.find((id) => seen.size === seen.add(id).size);
      if (duplicate === undefined) return true;
      (listType as any).errors = [{ keyword: 'x-kubernetes-list-type', message: `has a duplicate ${kind} entry ${duplicate}`, params: {} }];
      return false;
    },
  });
  ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isSafeInteger(n) });
  ajv.addFormat('date-time', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/i);
  return ajv;
}

/** Validators for the custom resources defined by the CRD files in `crdDir`, keyed `group/version/Kind`. */
export function loadCrdValidators(crdDir: string): Map<string, ValidateFunction> {
  const ajv = createAjv();
  const validators = new Map<string, ValidateFunction>();
  for (const file of yamlFilesUnder(crdDir)) {
    const crd = parseAllDocuments(readFileSync(file, 'utf8'), { version: '1.1' });
    for (const d of Array.isArray(crd) ? crd : []) {
      const doc = d.toJS();
      if (doc?.kind !== 'CustomResourceDefinition') continue;
      for (const version of doc.spec.versions) {
        const schema = hoistRepeats(closeObjects(version.schema.openAPIV3Schema));
        validators.set(`${doc.spec.group}/${version.name}/${doc.spec.names.kind}`, ajv.compile(schema));
      }
    }
  }
  return validators;
}

export function formatErrors(errors: ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map((e) => {
    const extra = e.keyword === 'additionalProperties' ? ` '${(e.params as any).additionalProperty}'` : '';
    return `${e.instancePath || '/'} ${e.message}${extra}`;
  });
}
