/**
 * deploy/: every manifest parses, custom resources (KServe's, the Inference Extension's
 * InferencePool, KEDA's ScaledObject) validate against the CRDs in ../shared/kserve-crds, the
 * kinds without a CRD here are checked by hand, and the containers (args, ports, probes,
 * annotations) match what the tsserve command really accepts.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import type { ValidateFunction } from 'ajv';
import { parseTsserveArgs as parseArgs } from '../src/tsserve-flags.js';
import { formatErrors, loadCrdValidators, type Manifest, readManifests } from './helpers/kube-manifests.js';
import { FP32_IDENTITY, tempRepo, type TempRepo } from './helpers/model-dir.js';
import { repoPath } from './helpers/server.js';

const DEPLOY = repoPath('deploy');
// Beside the checkout (../shared); a worktree under wt/ finds it one level further up.
const CRDS =
  [repoPath('..', 'shared', 'kserve-crds'), repoPath('..', '..', 'shared', 'kserve-crds')].find((dir) => existsSync(dir)) ??
  repoPath('..', 'shared', 'kserve-crds');
const CLI = repoPath('dist/src/cli.js');

const manifests = readManifests(DEPLOY);
const validators = loadCrdValidators(CRDS);

const ofKind = (kind: string) => manifests.filter((m) => m.doc.kind === kind);
const only = (kind: string): Manifest => {
  const found = ofKind(kind);
  assert.equal(found.length, 1, `exactly one ${kind} in deploy/`);
  return found[0]!;
};
const crdKey = (doc: any) => `${doc.apiVersion}/${doc.kind}`;
const clone = <T>(value: T): T => structuredClone(value);

function crdErrors(doc: any): string[] {
  const validate: ValidateFunction | undefined = validators.get(crdKey(doc));
  assert.ok(validate, `no CRD for ${crdKey(doc)}`);
  return validate(doc) ? [] : formatErrors(validate.errors);
}

/** What `kubectl apply` would check for the kinds that have no CRD here. */
const HAND_CHECKED: Record<string, (doc: any) => string[]> = {
  'v1/Secret': (doc) =>
    doc.stringData && Object.values(doc.stringData).every((v) => typeof v === 'string') ? [] : ['stringData must map keys to strings'],
  'v1/ServiceAccount': (doc) => ((doc.secrets ?? []).every((s: any) => typeof s?.name === 'string') ? [] : ['secrets[] need a name']),
  'v1/PersistentVolumeClaim': (doc) =>
    Array.isArray(doc.spec?.accessModes) && typeof doc.spec?.resources?.requests?.storage === 'string'
      ? []
      : ['needs spec.accessModes and spec.resources.requests.storage'],
  'kustomize.config.k8s.io/v1beta1/Kustomization': () => [],
};

function manifestErrors(doc: any): string[] {
  const errors: string[] = [];
  const name = doc?.metadata?.name;
  // DNS-1035 label: what KServe requires of InferenceService names, and valid for every kind here.
  if (doc.kind !== 'Kustomization' && !(typeof name === 'string' && name.length <= 63 && /^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(name))) {
    errors.push(`metadata.name '${name}' is not a DNS-1035 label`);
  }
  if (validators.has(crdKey(doc))) return [...errors, ...crdErrors(doc)];
  const check = HAND_CHECKED[crdKey(doc)];
  return check ? [...errors, ...check(doc)] : [...errors, `no CRD and no hand check for ${crdKey(doc)}`];
}

describe('deploy/ manifests', () => {
  it('reads the CRDs and the manifests', () => {
    for (const kind of [
      'ClusterServingRuntime',
      'ServingRuntime',
      'InferenceService',
      'ClusterStorageContainer',
      'LLMInferenceService',
      'InferencePool',
      'ScaledObject',
    ]) {
      assert.ok(
        [...validators.keys()].some((k) => k.endsWith(`/${kind}`)),
        `CRD for ${kind} in ${CRDS}`,
      );
    }
    assert.ok(manifests.length >= 10, `manifests found: ${manifests.map((m) => m.source)}`);
  });

  it('validates every manifest: custom resources against their CRD, the rest by hand', () => {
    const failures = manifests.flatMap((m) => manifestErrors(m.doc).map((e) => `${m.source} (${m.doc.kind}): ${e}`));
    assert.deepEqual(failures, []);
  });

  it('gives each kind and name at most one manifest per folder, so `kubectl apply -f FOLDER` applies each once', () => {
    const seen = new Map<string, string>();
    for (const m of manifests) {
      const key = `${m.source.split('/').slice(0, -1).join('/')}:${m.doc.kind}/${m.doc.metadata?.name}`;
      assert.ok(!seen.has(key), `${m.source} repeats ${key} of ${seen.get(key)}`);
      seen.set(key, m.source);
    }
  });

  it('lists only files that exist in the kustomization', () => {
    const k = only('Kustomization');
    const folder = repoPath('deploy', ...k.source.split('#')[0]!.split('/').slice(0, -1));
    for (const r of k.doc.resources) assert.ok(existsSync(`${folder}/${r}`), `${k.source}: ${r} missing`);
    assert.deepEqual(
      k.doc.images.map((i: any) => i.name),
      [only('ClusterServingRuntime').doc.spec.containers[0].image.split(':')[0]],
    );
  });
});

describe('the validator catches what kubectl would refuse', () => {
  const runtime = () => clone(only('ClusterServingRuntime').doc);

  it('accepts the runtime as written', () => assert.deepEqual(crdErrors(runtime()), []));

  it('refuses a wrong field type', () => {
    const doc = runtime();
    doc.spec.supportedModelFormats[0].priority = 'high';
    assert.deepEqual(crdErrors(doc), ['/spec/supportedModelFormats/0/priority must be integer']);
  });

  it('refuses a number where the schema wants a string (an unquoted annotation value)', () => {
    const doc = runtime();
    doc.spec.annotations['prometheus.kserve.io/port'] = 8080;
    assert.deepEqual(crdErrors(doc), ['/spec/annotations/prometheus.kserve.io~1port must be string']);
  });

  it('refuses an unknown field', () => {
    const doc = runtime();
    doc.spec.supportedModelFormat = doc.spec.supportedModelFormats;
    assert.deepEqual(crdErrors(doc), ["/spec must NOT have additional properties 'supportedModelFormat'"]);
  });

  it('refuses a missing required field and a value below the minimum', () => {
    const doc = runtime();
    delete doc.spec.supportedModelFormats[1].name;
    doc.spec.supportedModelFormats[2].priority = 0;
    assert.deepEqual(crdErrors(doc).sort(), [
      "/spec/supportedModelFormats/1 must have required property 'name'",
      '/spec/supportedModelFormats/2/priority must be >= 1',
    ]);
  });

  it('refuses the same container port twice (a list-map key)', () => {
    const doc = runtime();
    doc.spec.containers[0].ports.push({ name: 'again', containerPort: 8080 });
    assert.deepEqual(crdErrors(doc), ['/spec/containers/0/ports has a duplicate map entry [8080,"TCP"]']);
  });

  it('refuses an int32 out of range and a malformed quantity in an InferenceService', () => {
    const doc = clone(ofKind('InferenceService').find((m) => m.doc.spec.predictor.autoScaling)!.doc);
    doc.spec.predictor.maxReplicas = 2 ** 31;
    doc.spec.predictor.autoScaling.metrics[0].external.target.averageValue = 'four';
    assert.deepEqual(crdErrors(doc).sort(), [
      '/spec/predictor/autoScaling/metrics/0/external/target/averageValue must match pattern "^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$"',
      '/spec/predictor/maxReplicas must match format "int32"',
    ]);
  });

  it('reads a file as Kubernetes does: unquoted numbers are not strings, duplicate keys are errors', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tsserve-deploy-'));
    try {
      const runtime = readFileSync(repoPath('deploy/runtime/cluster-serving-runtime.yaml'), 'utf8');
      const unquoted = runtime
        .replace('prometheus.kserve.io/port: "8080"', 'prometheus.kserve.io/port: 8080')
        .replace('version: "2"', 'version: 2');
      assert.notEqual(unquoted, runtime);
      await writeFile(join(dir, 'runtime.yaml'), unquoted);
      const [bad] = readManifests(dir);
      assert.deepEqual(manifestErrors(bad!.doc).sort(), [
        '/spec/annotations/prometheus.kserve.io~1port must be string',
        '/spec/supportedModelFormats/3/version must be string',
      ]);
      await writeFile(join(dir, 'runtime.yaml'), runtime.replace('  name: tsserve\n', '  name: tsserve\n  name: other\n'));
      assert.throws(() => readManifests(dir), /runtime\.yaml#0: Map keys must be unique/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("refuses a ScaledObject with numeric trigger metadata and no target (KEDA's CRD)", () => {
    const doc = clone(ofKind('ScaledObject')[0]!.doc);
    doc.spec.triggers[0].metadata.threshold = 4;
    delete doc.spec.scaleTargetRef;
    assert.deepEqual(crdErrors(doc).sort(), [
      "/spec must have required property 'scaleTargetRef'",
      '/spec/triggers/0/metadata/threshold must be string',
    ]);
  });

  it('refuses an InferencePool without target ports, and an LLMInferenceService without a model URI', () => {
    const pool = clone(only('InferencePool').doc);
    delete pool.spec.targetPorts;
    assert.deepEqual(crdErrors(pool), ["/spec must have required property 'targetPorts'"]);
    const llm = clone(only('LLMInferenceService').doc);
    delete llm.spec.model.uri;
    assert.deepEqual(crdErrors(llm), ["/spec/model must have required property 'uri'"]);
  });
});

/** Renders KServe's container templating ({{.Name}}, {{.Annotations.x}}, ...) for an InferenceService. */
function renderArg(
  arg: string,
  isvc: { Name: string; Namespace: string; Annotations: Record<string, string>; Labels: Record<string, string> },
): string {
  return arg.replace(/\{\{\s*\.(\w+)(?:\.(\w+))?\s*\}\}/g, (whole, field: string, key?: string) => {
    const value = key === undefined ? (isvc as any)[field] : (isvc as any)[field]?.[key];
    if (typeof value !== 'string') throw new Error(`${whole} is not a field KServe fills from an InferenceService`);
    return value;
  });
}

const flagName = (arg: string) => arg.slice(2).split('=')[0]!.replace(/-/g, '_');

let helpFlags: Set<string> | undefined;
/** The flags `tsserve --help` lists. */
function knownFlags(): Set<string> {
  if (helpFlags) return helpFlags;
  const out = spawnSync(process.execPath, [CLI, '--help'], { encoding: 'utf8' });
  assert.equal(out.status, 0, out.stderr);
  return (helpFlags = new Set([...out.stdout.matchAll(/^ {2}--(\w+) </gm)].map((m) => m[1]!)));
}

/** Starts the CLI and resolves once it logs that it is serving. */
function serve(args: string[]): Promise<{ child: ChildProcess; port: number; logs: any[] }> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: any[] = [];
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const entry = JSON.parse(line);
      logs.push(entry);
      if (entry.msg === 'tsserve is serving') resolve({ child, port: entry.httpPort, logs });
    });
    child.on('exit', (code) => reject(new Error(`tsserve exited with ${code}: ${JSON.stringify(logs)}`)));
  });
}

const KSERVE_SECURITY_CONTEXT = { allowPrivilegeEscalation: false, privileged: false, runAsNonRoot: true, capabilities: { drop: ['ALL'] } };
const FORMATS = ['huggingface', 'lightgbm', 'onnx', 'sklearn', 'xgboost'];
const SAMPLE_ISVC = { Name: 'iris', Namespace: 'models', Annotations: { modelFormat: 'onnx' }, Labels: {} };

describe('the tsserve runtime', () => {
  const cluster = () => only('ClusterServingRuntime').doc;
  const container = () => cluster().spec.containers[0];
  const rendered = () => container().args.map((a: string) => renderArg(a, SAMPLE_ISVC));

  it("runs one container named kserve-container, secured and sized as KServe's runtimes", () => {
    assert.equal(cluster().metadata.name, 'tsserve');
    assert.equal(cluster().spec.containers.length, 1);
    assert.equal(container().name, 'kserve-container');
    assert.deepEqual(container().securityContext, KSERVE_SECURITY_CONTEXT);
    assert.deepEqual(container().resources, { requests: { cpu: '1', memory: '2Gi' }, limits: { cpu: '1', memory: '2Gi' } });
  });

  it('declares the formats with versions, and the protocols, KServe selects on', () => {
    const formats = cluster().spec.supportedModelFormats;
    assert.deepEqual([...new Set(formats.map((f: any) => f.name))].sort(), FORMATS);
    for (const f of formats) assert.match(f.version, /^\d+(\.\d+){0,2}$/, `${f.name} version`);
    assert.deepEqual(cluster().spec.protocolVersions, ['v1', 'v2', 'grpc-v2']);
    assert.ok(!cluster().spec.multiModel, 'single-model serving (multiModel is ModelMesh)');
  });

  it('is auto-selected only behind runtimes with a priority, cluster-wide; first in a namespace that installs it', () => {
    // No priority: KServe's shipped runtimes (priority 1 or more) keep their models (deploy/README.md).
    for (const f of cluster().spec.supportedModelFormats)
      assert.deepEqual(Object.keys(f).sort(), ['autoSelect', 'name', 'version'], f.name);
    for (const f of cluster().spec.supportedModelFormats) assert.equal(f.autoSelect, true);
    const namespaced = only('ServingRuntime').doc;
    for (const f of namespaced.spec.supportedModelFormats) assert.ok(f.autoSelect === true && f.priority >= 1, f.name);
    const strip = (spec: any) => ({ ...spec, supportedModelFormats: spec.supportedModelFormats.map(({ priority, ...f }: any) => f) });
    assert.deepEqual(
      strip(namespaced.spec),
      strip(cluster().spec),
      'the namespaced runtime differs from the cluster one only in priorities',
    );
  });

  it('passes only flags that `tsserve --help` lists (--framework until a runtime reads it)', () => {
    const known = knownFlags();
    assert.ok(known.has('model_dir') && known.has('grpc_port'), `parsed --help: ${[...known]}`);
    const flags = rendered().map(flagName);
    const unknown = flags.filter((f: string) => !known.has(f));
    assert.deepEqual(unknown, known.has('framework') ? [] : ['framework']);
  });

  it("renders KServe's templates into the options the server runs with", () => {
    const parsed = parseArgs(rendered(), {});
    assert.equal(parsed.options.model_name, 'iris');
    assert.equal(parsed.options.model_dir, '/mnt/models');
    assert.equal(parsed.options.http_port, 8080);
    assert.equal(parsed.options.grpc_port, 8081);
    assert.ok(rendered().includes('--framework=onnx'));
    assert.throws(() => renderArg('--x={{.Spec.Foo}}', SAMPLE_ISVC), /not a field KServe fills/);
  });

  it('declares the HTTP and gRPC ports the args select, and points probes and metrics at the HTTP port', () => {
    const options = parseArgs(rendered(), {}).options;
    assert.deepEqual(container().ports, [
      { name: 'http1', containerPort: options.http_port, protocol: 'TCP' },
      { name: 'h2c', containerPort: options.grpc_port, protocol: 'TCP' },
    ]);
    assert.equal(container().readinessProbe.httpGet.port, options.http_port);
    assert.equal(cluster().spec.annotations['prometheus.kserve.io/port'], String(options.http_port));
    assert.equal(cluster().spec.annotations['prometheus.kserve.io/path'], '/metrics');
  });

  it("matches the image's defaults (Dockerfile EXPOSE and CMD)", () => {
    const dockerfile = readFileSync(repoPath('Dockerfile'), 'utf8');
    const exposed = [...dockerfile.matchAll(/^EXPOSE (.+)$/gm)].map((m) => m[1]!.trim());
    assert.ok(exposed.length >= 1);
    for (const line of exposed)
      assert.equal(
        line,
        container()
          .ports.map((p: any) => p.containerPort)
          .join(' '),
      );
    const cmds = [...dockerfile.matchAll(/^CMD (.+)$/gm)].map((m) => JSON.parse(m[1]!));
    for (const cmd of cmds) assert.deepEqual(parseArgs(cmd, {}).options.http_port, 8080);
    assert.match(dockerfile, /^ENTRYPOINT \["node", "dist\/src\/cli\.js"\]$/m);
  });

  it('every image stage and npm start set the same glibc malloc settings', () => {
    const dockerfile = readFileSync(repoPath('Dockerfile'), 'utf8');
    const stages = dockerfile.split(/^FROM /m).filter((stage) => /^ENTRYPOINT /m.test(stage));
    const start = (JSON.parse(readFileSync(repoPath('package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
    const settings = start.match(/MALLOC_\w+=\d+/g) ?? [];
    assert.deepEqual(
      settings.map((s) => s.split('=')[0]),
      ['MALLOC_MMAP_THRESHOLD_', 'MALLOC_TRIM_THRESHOLD_'],
    );
    assert.equal(stages.length, 2, 'the CPU and the CUDA runtime stages');
    for (const stage of stages) assert.match(stage, new RegExp(`^ENV ${settings.join(' ')}$`, 'm'));
  });

  describe('the server started with these args', () => {
    let repo: TempRepo;
    let server: { child: ChildProcess; port: number; logs: any[] };
    before(async () => {
      repo = await tempRepo();
      await repo.copy(FP32_IDENTITY, 'model.onnx');
      // The manifest's args, then test-only overrides (later flags win): a local model, any port.
      server = await serve([...rendered(), `--model_dir=${repo.dir}`, '--http_port=0', '--grpc_port=0', '--host=127.0.0.1']);
    });
    after(async () => {
      await new Promise((resolve) => {
        server.child.once('exit', resolve);
        server.child.kill('SIGTERM');
      });
      await repo.remove();
    });

    it('serves the model under the InferenceService name and answers the readiness probe', async () => {
      const url = `http://127.0.0.1:${server.port}`;
      assert.equal((await fetch(`${url}/v2/models/${SAMPLE_ISVC.Name}/ready`)).status, 200);
      const probe = await fetch(`${url}${container().readinessProbe.httpGet.path}`);
      assert.equal(probe.status, 200);
      const ignored = server.logs.find((l) => l.msg === 'ignoring unknown arguments')?.flags ?? [];
      assert.deepEqual(ignored, knownFlags().has('framework') ? [] : ['--framework=onnx']);
    });

    it('serves the metrics path the runtime annotates, with the in-flight gauge KEDA scales on', async () => {
      const res = await fetch(`http://127.0.0.1:${server.port}${cluster().spec.annotations['prometheus.kserve.io/path']}`);
      assert.equal(res.status, 200);
      const text = await res.text();
      assert.match(text, /^# TYPE tsserve_inference_requests_in_flight gauge$/m);
      for (const metric of kedaQueries()
        .filter(onInferenceService)
        .map((q) => q.metric))
        assert.match(text, new RegExp(`^# TYPE ${metric} `, 'm'));
    });
  });
});

/** KEDA queries of the keda/ examples, which scale InferenceServices (llm-d/ scales an LLMInferenceService). */
const onInferenceService = (q: { source: string }) => q.source.startsWith('keda/');

/** The metric, and its label filters, in each KEDA query under deploy/. */
function kedaQueries(): { source: string; metric: string; labels: Record<string, string> }[] {
  const queries: { source: string; query: string }[] = [];
  for (const m of ofKind('ScaledObject')) for (const t of m.doc.spec.triggers) queries.push({ source: m.source, query: t.metadata.query });
  for (const m of ofKind('InferenceService')) {
    for (const metric of m.doc.spec.predictor.autoScaling?.metrics ?? [])
      queries.push({ source: m.source, query: metric.external.metric.query });
  }
  return queries.map(({ source, query }) => {
    const match = /^sum\(([\w:]+)\{([^}]*)\}\)$/.exec(query);
    assert.ok(match, `${source}: query '${query}' is not sum(metric{labels})`);
    const labels = Object.fromEntries([...match[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1]!, l[2]!]));
    return { source, metric: match[1]!, labels };
  });
}

describe('InferenceService examples', () => {
  const isvcs = () => ofKind('InferenceService');
  const runtime = () => only('ClusterServingRuntime').doc.spec;

  it('cover S3, GCS, the Hugging Face Hub and a PVC', () => {
    const schemes = new Set(isvcs().map((m) => m.doc.spec.predictor.model.storageUri.split('://')[0]));
    for (const scheme of ['s3', 'gs', 'hf', 'pvc']) assert.ok(schemes.has(scheme), `an example with ${scheme}://`);
  });

  it('name tsserve, with a format, version and protocol it declares, in raw deployment mode (two ports)', () => {
    for (const { source, doc } of isvcs()) {
      const model = doc.spec.predictor.model;
      assert.equal(model.runtime, 'tsserve', source);
      const formats = runtime().supportedModelFormats.filter((f: any) => f.name === model.modelFormat.name);
      assert.ok(formats.length > 0, `${source}: format ${model.modelFormat.name}`);
      if (model.modelFormat.version !== undefined)
        assert.ok(
          formats.some((f: any) => f.version === model.modelFormat.version),
          `${source}: version`,
        );
      assert.ok(runtime().protocolVersions.includes(model.protocolVersion), `${source}: protocol ${model.protocolVersion}`);
      assert.equal(doc.metadata.annotations['serving.kserve.io/deploymentMode'], 'RawDeployment', source);
    }
  });

  it('refer only to credentials and claims defined beside them', () => {
    for (const { source, doc } of isvcs()) {
      const file = source.split('#')[0];
      const beside = manifests.filter((m) => m.source.startsWith(`${file}#`)).map((m) => m.doc);
      const sa = doc.spec.predictor.serviceAccountName;
      if (sa) {
        const account = beside.find((d) => d.kind === 'ServiceAccount' && d.metadata.name === sa);
        assert.ok(account, `${source}: ServiceAccount ${sa}`);
        for (const { name } of account.secrets) {
          const secret = beside.find((d) => d.kind === 'Secret' && d.metadata.name === name);
          assert.deepEqual(
            Object.keys(secret?.stringData ?? {}).sort(),
            ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'],
            `${source}: Secret ${name}`,
          );
        }
      }
      const claim = /^pvc:\/\/([^/]+)\//.exec(doc.spec.predictor.model.storageUri)?.[1];
      if (claim)
        assert.ok(
          beside.some((d) => d.kind === 'PersistentVolumeClaim' && d.metadata.name === claim),
          `${source}: claim ${claim}`,
        );
    }
  });
});

describe('KEDA autoscaling examples', () => {
  it('scale on tsserve_inference_requests_in_flight of the model the InferenceService serves', () => {
    const queries = kedaQueries().filter(onInferenceService);
    assert.equal(queries.length, 2);
    for (const q of queries) {
      assert.equal(q.metric, 'tsserve_inference_requests_in_flight', q.source);
      const folder = q.source.split('/').slice(0, -1).join('/');
      const isvc = ofKind('InferenceService').find((m) => m.source.startsWith(`${folder}/`))!;
      // A single model file is served under --model_name={{.Name}}, the InferenceService name.
      assert.equal(q.labels.model_name, isvc.doc.metadata.name, q.source);
      assert.ok(q.labels.namespace, `${q.source}: the query keeps to one namespace`);
      assert.equal(isvc.doc.metadata.annotations['serving.kserve.io/enable-prometheus-scraping'], 'true', isvc.source);
    }
  });

  it('target the Deployment KServe creates for the InferenceService, which leaves scaling to KEDA', () => {
    const so = ofKind('ScaledObject').find((m) => m.source.startsWith('keda/'))!;
    const folder = so.source.split('/').slice(0, -1).join('/');
    const isvc = ofKind('InferenceService').find((m) => m.source.startsWith(`${folder}/`))!;
    assert.deepEqual(so.doc.spec.scaleTargetRef, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: `${isvc.doc.metadata.name}-predictor`,
    });
    assert.equal(isvc.doc.metadata.annotations['serving.kserve.io/autoscalerClass'], 'external');
    const managed = ofKind('InferenceService').find((m) => m.doc.spec.predictor.autoScaling)!;
    assert.equal(managed.doc.metadata.annotations['serving.kserve.io/autoscalerClass'], 'keda');
    assert.deepEqual(
      managed.doc.spec.predictor.autoScaling.metrics.map((m: any) => [m.type, m.external.metric.backend]),
      [['External', 'prometheus']],
    );
  });
});

describe('the storage initializer container', () => {
  it("follows KServe's ClusterStorageContainer contract and runs the command the image ships", () => {
    const { doc } = only('ClusterStorageContainer');
    const container = doc.spec.container;
    assert.equal(container.name, 'storage-initializer', 'KServe requires this container name');
    assert.equal(container.args, undefined, 'KServe appends <src-uri> <dest-path> itself');
    const script = container.command.at(-1) as string;
    assert.equal(script, '/app/dist/src/storage/cli.js');
    // The runtime image copies dist/src to /app/dist/src (Dockerfile).
    assert.match(readFileSync(repoPath('Dockerfile'), 'utf8'), /WORKDIR \/app[\s\S]*COPY --from=build \/app\/dist\/src dist\/src/);
    assert.ok(existsSync(repoPath(script.replace('/app/', ''))), `${script} is built`);
    const prefixes = doc.spec.supportedUriFormats.map((f: { prefix?: string; regex?: string }) => f.prefix ?? f.regex);
    assert.deepEqual(prefixes, ['s3://', 'gs://', 'hf://', '^https?://']);
  });
});

/**
 * Renders the Go templating KServe applies to an LLMInferenceService's merged spec, for the
 * fields the llm-d example uses: {{ .Spec.Model.Name }}, {{ .ObjectMeta.Namespace }} and
 * {{ if .GlobalConfig.EnableTLS }}...{{ end }}.
 */
function renderLlmArg(arg: string, llm: { name: string; namespace: string; tls: boolean }): string {
  const conditional = arg.replace(/\{\{-?\s*if \.GlobalConfig\.EnableTLS\s*-?\}\}(.*?)\{\{-?\s*end\s*-?\}\}/g, (_w, body: string) =>
    llm.tls ? body : '',
  );
  return conditional.replace(/\{\{\s*([^}]*?)\s*\}\}/g, (whole, field: string) => {
    if (field === '.Spec.Model.Name') return llm.name;
    if (field === '.ObjectMeta.Namespace') return llm.namespace;
    throw new Error(`${whole} is not a field this test renders`);
  });
}

describe('the llm-d example: an LLMInferenceService with tsserve as its main container', () => {
  const llm = () => only('LLMInferenceService').doc;
  const main = () => llm().spec.template.containers.find((c: any) => c.name === 'main');
  const args = (tls: boolean) => main().args.map((a: string) => renderLlmArg(a, { name: llm().spec.model.name, namespace: 'models', tls }));
  // What KServe's config-llm-template.yaml gives the main container (port, probe path, TLS files).
  const KSERVE_PORT = 8000;
  const KSERVE_PROBE_PATH = '/health';

  it("runs the image's tsserve with flags `tsserve --help` lists", () => {
    assert.deepEqual(main().command, ['node', '/app/dist/src/cli.js']);
    const flags = [...args(true), ...args(false)].filter((a: string) => a.startsWith('--')).map(flagName);
    assert.deepEqual(
      flags.filter((f: string) => !knownFlags().has(f)),
      [],
    );
  });

  it("listens where KServe's template probes, under the model's two names, with TLS only when KServe enables it", () => {
    const plain = parseArgs(args(false), {});
    assert.equal(plain.options.http_port, KSERVE_PORT);
    assert.deepEqual(plain.options.served_model_name, [llm().spec.model.name, `publishers/models/models/${llm().spec.model.name}`]);
    assert.equal(plain.options.model_name, llm().spec.model.name);
    assert.deepEqual([plain.options.ssl_certfile, plain.options.ssl_keyfile, plain.ignored], ['', '', []]);
    const tls = parseArgs(args(true), {}).options;
    assert.deepEqual(
      [tls.ssl_certfile, tls.ssl_keyfile, tls.enable_ssl_refresh],
      ['/var/run/kserve/tls/tls.crt', '/var/run/kserve/tls/tls.key', true],
    );
  });

  it("points the InferencePool at the pods KServe labels as the service's workload, on the server's port", () => {
    const pool = only('InferencePool').doc;
    const name = llm().metadata.name;
    assert.deepEqual(pool.spec.selector.matchLabels, {
      'app.kubernetes.io/name': name,
      'app.kubernetes.io/part-of': 'llminferenceservice',
      'kserve.io/component': 'workload',
    });
    assert.deepEqual(pool.spec.targetPorts, [{ number: parseArgs(args(false), {}).options.http_port }]);
  });

  it("scales KServe's Deployment for it on vllm:num_requests_waiting of the model's name", () => {
    const so = ofKind('ScaledObject').find((m) => m.source.startsWith('llm-d/'))!;
    assert.deepEqual(so.doc.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: `${llm().metadata.name}-kserve` });
    const [query] = kedaQueries().filter((q) => q.source === so.source);
    assert.equal(query!.metric, 'vllm:num_requests_waiting');
    assert.equal(query!.labels.model_name, parseArgs(args(false), {}).options.model_name);
  });

  describe('the server started with these args', () => {
    let server: { child: ChildProcess; port: number; logs: any[] };
    before(async () => {
      // The manifest's args, then test-only overrides: the tiny GPT-2 fixture, any port.
      server = await serve([...args(false), `--model_dir=${repoPath('test/hf-models/tiny-gpt2')}`, '--http_port=0', '--host=127.0.0.1']);
    });
    after(async () => {
      await new Promise((resolve) => {
        server.child.once('exit', resolve);
        server.child.kill('SIGTERM');
      });
    });

    it('answers the probe path and completes under the published name at the root', async () => {
      const url = `http://127.0.0.1:${server.port}`;
      assert.equal((await fetch(`${url}${KSERVE_PROBE_PATH}`)).status, 200);
      const model = `publishers/models/models/${llm().spec.model.name}`;
      const res = await fetch(`${url}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model, prompt: 'hello', max_tokens: 2 }),
      });
      assert.equal(res.status, 200);
      assert.equal(((await res.json()) as { model: string }).model, model);
    });

    it('exports the gauge the ScaledObject and the endpoint picker read', async () => {
      const text = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
      assert.match(text, /^# TYPE vllm:num_requests_waiting gauge$/m);
    });
  });
});
