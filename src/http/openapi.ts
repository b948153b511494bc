/**
 * The OpenAPI 3 description of every REST route, written by hand: our routes read raw bodies
 * (binary and JSON share one path), so fastify route schemas could not describe them anyway.
 * Served at /openapi.json with Swagger UI at /docs when --enable_docs_url is set.
 */
import type { FastifyInstance } from 'fastify';

const json = (schema: object) => ({ 'application/json': { schema } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const error = (description: string) => ({ description, content: json(ref('Error')) });
const model = { name: 'model', in: 'path', required: true, schema: { type: 'string' } };
const version = { name: 'version', in: 'path', required: true, schema: { type: 'string' }, description: 'numeric version folder' };

const schemas = {
  Error: { type: 'object', required: ['error'], properties: { error: { type: 'string' } } },
  Parameters: { type: 'object', additionalProperties: { oneOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }] } },
  Datatype: {
    type: 'string',
    enum: ['BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64', 'BYTES'],
  },
  TensorMetadata: {
    type: 'object',
    required: ['name', 'datatype', 'shape'],
    properties: {
      name: { type: 'string' },
      datatype: ref('Datatype'),
      shape: { type: 'array', items: { type: 'integer' }, description: '-1 for a dimension of any size' },
    },
  },
  RequestInput: {
    type: 'object',
    required: ['name', 'shape', 'datatype'],
    properties: {
      name: { type: 'string' },
      shape: { type: 'array', items: { type: 'integer', minimum: 0 } },
      datatype: ref('Datatype'),
      parameters: ref('Parameters'),
      data: { description: 'flat or nested row-major values; absent when parameters.binary_data_size is set' },
    },
  },
  InferenceRequest: {
    type: 'object',
    required: ['inputs'],
    properties: {
      id: { type: 'string' },
      parameters: ref('Parameters'),
      inputs: { type: 'array', items: ref('RequestInput') },
      outputs: {
        type: 'array',
        items: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, parameters: ref('Parameters') } },
      },
    },
  },
  InferenceResponse: {
    type: 'object',
    required: ['model_name', 'outputs'],
    properties: {
      model_name: { type: 'string' },
      model_version: { type: 'string' },
      id: { type: 'string' },
      parameters: ref('Parameters'),
      outputs: {
        type: 'array',
        items: {
          type: 'object',
          required: ['name', 'shape', 'datatype'],
          properties: {
            name: { type: 'string' },
            shape: { type: 'array', items: { type: 'integer' } },
            datatype: ref('Datatype'),
            parameters: ref('Parameters'),
            data: {},
          },
        },
      },
    },
  },
  ModelMetadata: {
    type: 'object',
    properties: {
      name: { type: 'string' },
      versions: { type: 'array', items: { type: 'string' } },
      platform: { type: 'string' },
      inputs: { type: 'array', items: ref('TensorMetadata') },
      outputs: { type: 'array', items: ref('TensorMetadata') },
    },
  },
  ModelReady: { type: 'object', properties: { name: { type: 'string' }, ready: { type: 'boolean' } } },
  ModelList: { type: 'object', properties: { models: { type: 'array', items: { type: 'string' } } } },
  RepositoryIndex: {
    type: 'array',
    items: {
      type: 'object',
      properties: { name: { type: 'string' }, version: { type: 'string' }, state: { type: 'string' }, reason: { type: 'string' } },
    },
  },
  Statistics: { type: 'object', properties: { model_stats: { type: 'array', items: { type: 'object' } } } },
  V1Request: {
    type: 'object',
    properties: { instances: { type: 'array', items: {} }, inputs: { type: 'array', items: {} } },
    description: 'rows of values for a single-input model, or one object per row keyed by input name',
  },
  V1Response: { type: 'object', properties: { predictions: { type: 'array', items: {} } } },
};

const inferBody = {
  required: true,
  content: {
    ...json(ref('InferenceRequest')),
    'application/octet-stream': {
      schema: {
        type: 'string',
        format: 'binary',
        description: 'binary tensor data extension: JSON header of Inference-Header-Content-Length bytes, then the tensors',
      },
    },
  },
};

const inferResponses = {
  200: {
    description: 'inference result',
    content: { ...json(ref('InferenceResponse')), 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
  },
  400: error('malformed request or input that does not fit the model'),
  404: error('unknown model or version'),
  413: error('body larger than --http_max_input_size'),
  500: error('the model failed while running'),
  503: error('model not ready, queue full, timeout, or too many requests in flight'),
};

const ok = (description: string, schema: object) => ({ 200: { description, content: json(schema) } });

function modelRoutes(prefix: string, params: object[]): Record<string, object> {
  return {
    [prefix]: {
      get: {
        summary: 'Model metadata',
        parameters: params,
        responses: { ...ok('metadata', ref('ModelMetadata')), 404: error('unknown'), 503: error('not ready') },
      },
    },
    [`${prefix}/ready`]: {
      get: {
        summary: 'Model readiness',
        parameters: params,
        responses: { ...ok('ready', ref('ModelReady')), 404: error('unknown'), 503: error('not ready') },
      },
    },
    [`${prefix}/infer`]: {
      post: {
        summary: 'Inference (JSON or binary tensor extension)',
        parameters: [...params, { name: 'Inference-Header-Content-Length', in: 'header', schema: { type: 'integer' } }],
        requestBody: inferBody,
        responses: inferResponses,
      },
    },
    [`${prefix}/stats`]: {
      get: {
        summary: 'Statistics (Triton extension)',
        parameters: params,
        responses: { ...ok('statistics', ref('Statistics')), 404: error('unknown') },
      },
    },
    [`${prefix}/config`]: {
      get: {
        summary: 'Model configuration (Triton extension; JSON of config.pbtxt as served)',
        parameters: params,
        responses: { ...ok('configuration', { type: 'object' }), 404: error('unknown'), 503: error('not ready') },
      },
    },
  };
}

const openAiError = {
  description: "an error in OpenAI's shape",
  content: json({
    type: 'object',
    properties: {
      error: {
        type: 'object',
        properties: {
          message: { type: 'string' },
          type: { type: 'string' },
          param: { type: 'string', nullable: true },
          code: { type: 'integer' },
        },
      },
    },
  }),
};

/** The OpenAI-compatible routes of text models, under their prefix (KSERVE_OPENAI_ROUTE_PREFIX). */
function openAiRoutes(prefix: string): Record<string, object> {
  const body = (summary: string) => ({
    summary,
    requestBody: { required: true, content: json({ type: 'object', required: ['model'], properties: { model: { type: 'string' } } }) },
    responses: {
      200: {
        description: 'an OpenAI response object, or server-sent events ending in [DONE] with "stream": true',
        content: { ...json({ type: 'object' }), 'text/event-stream': { schema: { type: 'string' } } },
      },
      400: openAiError,
      404: openAiError,
      503: openAiError,
    },
  });
  const routes: Record<string, object> = {
    [`${prefix}/v1/embeddings`]: { post: body('Embeddings (string or list input; float or base64)') },
    [`${prefix}/v1/completions`]: { post: body('Text completion') },
    [`${prefix}/v1/chat/completions`]: { post: body('Chat completion (chat template from tokenizer_config.json)') },
  };
  // Without a prefix, /v1/models is KServe V1's route, documented above.
  if (prefix) {
    routes[`${prefix}/v1/models`] = { get: { summary: 'Text models (OpenAI list)', responses: ok('models', { type: 'object' }) } };
    routes[`${prefix}/v1/models/{name}`] = {
      get: {
        summary: 'One text model',
        parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }],
        responses: { ...ok('model', { type: 'object' }), 404: openAiError, 503: openAiError },
      },
    };
  }
  return routes;
}

/** Triton's shared-memory extensions: system regions served, CUDA refused with a reason. */
function sharedMemoryRoutes(): Record<string, unknown> {
  const region = { name: 'region', in: 'path', required: true, schema: { type: 'string' } };
  const status = {
    type: 'array',
    items: {
      type: 'object',
      properties: { name: { type: 'string' }, key: { type: 'string' }, offset: { type: 'integer' }, byte_size: { type: 'integer' } },
    },
  };
  const registerBody = {
    content: json({ type: 'object', properties: { key: { type: 'string' }, offset: { type: 'integer' }, byte_size: { type: 'integer' } } }),
  };
  const routes: Record<string, unknown> = {};
  for (const [kind, label] of [
    ['systemsharedmemory', 'System'],
    ['cudasharedmemory', 'CUDA'],
  ] as const) {
    const base = `/v2/${kind}`;
    routes[`${base}/status`] = { get: { summary: `${label} shared memory regions`, responses: ok('regions', status) } };
    routes[`${base}/region/{region}/status`] = {
      get: {
        summary: `One ${label} shared memory region`,
        parameters: [region],
        responses: { ...ok('region', status), 404: error('not registered') },
      },
    };
    routes[`${base}/region/{region}/register`] = {
      post: {
        summary:
          kind === 'cudasharedmemory'
            ? 'Register a CUDA region (not supported: 501)'
            : 'Register a POSIX shared memory object (key) as a region',
        parameters: [region],
        requestBody: registerBody,
        responses: {
          ...ok('registered', { type: 'object' }),
          400: error('bad key, bounds or duplicate name'),
          501: error('not supported'),
        },
      },
    };
    routes[`${base}/unregister`] = {
      post: { summary: `Unregister every ${label} region`, responses: ok('unregistered', { type: 'object' }) },
    };
    routes[`${base}/region/{region}/unregister`] = {
      post: { summary: `Unregister one ${label} region`, parameters: [region], responses: ok('unregistered', { type: 'object' }) },
    };
  }
  return routes;
}

export function openApiDocument(serverVersion: string, openAiPrefix: string): Record<string, unknown> {
  return {
    openapi: '3.0.3',
    info: { title: 'tsserve', version: serverVersion, description: 'Open Inference Protocol (v2) and KServe V1 model server' },
    paths: {
      '/': {
        get: { summary: 'Liveness (KServe)', responses: ok('alive', { type: 'object', properties: { status: { type: 'string' } } }) },
      },
      '/metrics': {
        get: {
          summary: 'Prometheus metrics',
          responses: { 200: { description: 'exposition format', content: { 'text/plain': { schema: { type: 'string' } } } } },
        },
      },
      '/v2': {
        get: {
          summary: 'Server metadata',
          responses: ok('metadata', {
            type: 'object',
            properties: { name: { type: 'string' }, version: { type: 'string' }, extensions: { type: 'array', items: { type: 'string' } } },
          }),
        },
      },
      '/v2/': { get: { summary: 'Server metadata', responses: ok('metadata', { type: 'object' }) } },
      '/health': {
        get: {
          summary: "Server readiness (vLLM's probe path; empty body)",
          responses: { 200: { description: 'ready' }, 503: error('not ready') },
        },
      },
      '/v2/health/live': {
        get: { summary: 'Server liveness', responses: ok('live', { type: 'object', properties: { live: { type: 'boolean' } } }) },
      },
      '/v2/health/ready': {
        get: {
          summary: 'Server readiness',
          responses: { ...ok('ready', { type: 'object', properties: { ready: { type: 'boolean' } } }), 503: error('not ready') },
        },
      },
      '/v2/models': { get: { summary: 'Loaded models (KServe extension)', responses: ok('models', ref('ModelList')) } },
      '/v2/models/stats': { get: { summary: 'Statistics of every model', responses: ok('statistics', ref('Statistics')) } },
      ...modelRoutes('/v2/models/{model}', [model]),
      ...modelRoutes('/v2/models/{model}/versions/{version}', [model, version]),
      '/v2/repository/index': {
        post: {
          summary: 'Repository index',
          requestBody: { content: json({ type: 'object', properties: { ready: { type: 'boolean' } } }) },
          responses: ok('index', ref('RepositoryIndex')),
        },
      },
      '/v2/repository/models/{model}/load': {
        post: {
          summary: 'Load or reload a model from model_dir',
          parameters: [model],
          responses: { ...ok('loaded', { type: 'object' }), 404: error('no such model'), 503: error('failed to load') },
        },
      },
      '/v2/repository/models/{model}/unload': {
        post: {
          summary: 'Unload a model',
          parameters: [model],
          responses: { ...ok('unloaded', { type: 'object' }), 404: error('no such model') },
        },
      },
      '/v2/repository/{repository}/index': {
        post: {
          summary: 'Named repositories (not supported)',
          parameters: [{ name: 'repository', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { 501: error('not supported') },
        },
      },
      '/v2/repository/{repository}/models/{model}/load': {
        post: {
          summary: 'Named repositories (not supported)',
          parameters: [{ name: 'repository', in: 'path', required: true, schema: { type: 'string' } }, model],
          responses: { 501: error('not supported') },
        },
      },
      '/v2/repository/{repository}/models/{model}/unload': {
        post: {
          summary: 'Named repositories (not supported)',
          parameters: [{ name: 'repository', in: 'path', required: true, schema: { type: 'string' } }, model],
          responses: { 501: error('not supported') },
        },
      },
      ...sharedMemoryRoutes(),
      '/v1/models': {
        get: {
          summary: 'Loaded models (V1 `models`), with the OpenAI list of text models (`object`, `data`)',
          responses: ok('models', ref('ModelList')),
        },
      },
      '/v1/models/{name}': {
        get: {
          summary: 'Model status (V1)',
          parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { ...ok('ready', ref('ModelReady')), 404: error('unknown'), 503: error('not ready') },
        },
        post: {
          summary: 'Predict (V1): POST /v1/models/{model}:predict; :explain answers 501',
          parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string' }, description: '"<model>:predict"' }],
          requestBody: { required: true, content: json(ref('V1Request')) },
          responses: {
            ...ok('predictions', ref('V1Response')),
            400: error('bad body'),
            404: error('unknown model'),
            501: error(':explain'),
            503: error('not ready'),
          },
        },
      },
      ...openAiRoutes(openAiPrefix),
      ...openAiRoutes(''),
    },
    components: { schemas },
  };
}

/** /openapi.json, and Swagger UI at /docs. */
export async function registerDocs(app: FastifyInstance, serverVersion: string, openAiPrefix: string): Promise<void> {
  const document = openApiDocument(serverVersion, openAiPrefix);
  const { default: swagger } = await import('@fastify/swagger');
  const { default: swaggerUi } = await import('@fastify/swagger-ui');
  await app.register(swagger, { mode: 'static', specification: { document: document as never } });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => document);
}
