/** The gRPC server's TCP_NODELAY hook still finds grpc-js's http2 server options (fails on a grpc-js upgrade that moves them). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { disableNagle } from '../../src/grpc/no-delay.js';

describe('disableNagle', () => {
  it('sets noDelay in the options grpc-js gives http2.createServer', () => {
    const server = new grpc.Server();
    assert.equal(disableNagle(server), true);
    assert.equal((server as unknown as { commonServerOptions: { noDelay?: boolean } }).commonServerOptions.noDelay, true);
  });
});
