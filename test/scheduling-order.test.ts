/**
 * Requests waiting for a busy model instance run in the order they came, as in Triton's
 * schedulers: none is passed over while later ones run (piscina, by default, sent a task it
 * could not place to the back of its queue each time a worker freed up).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GrpcTestClient } from './helpers/grpc-client.js';
import { SLOW_MODEL, type TempRepo, tempRepo } from './helpers/model-dir.js';
import { type TestServer, startTestServer } from './helpers/server.js';

/** n = 256: about 13 ms per run (test/fixtures/slow/TIMINGS.txt), so later calls queue. */
function slow(id: string) {
  return {
    model_name: 'slow',
    id,
    inputs: [{ name: 'n', datatype: 'INT64', shape: [1] }],
    raw_input_contents: [Buffer.from(new BigInt64Array([256n]).buffer)],
  };
}

describe('queued requests', () => {
  let repo: TempRepo;
  let srv: TestServer;
  before(async () => {
    repo = await tempRepo();
    await repo.copy(SLOW_MODEL, 'slow/1/model.onnx');
    // One instance, no dynamic batching: every request is one run, one at a time.
    await repo.write('slow/config.pbtxt', 'instance_group [ { count: 1 kind: KIND_CPU } ]\n');
    srv = await startTestServer(repo.dir);
  });
  after(async () => {
    await srv.close();
    await repo.remove();
  });

  it('run first come, first served on a single instance', async () => {
    const client = new GrpcTestClient(srv.grpcAddress);
    try {
      const ids = Array.from({ length: 8 }, (_, i) => `call-${i}`);
      const finished: string[] = [];
      // One HTTP/2 connection: the calls reach the server in this order.
      await Promise.all(ids.map((id) => client.call('ModelInfer', slow(id)).then((r) => finished.push(r.id as string))));
      assert.deepEqual(finished, ids);
    } finally {
      client.close();
    }
  });
});
