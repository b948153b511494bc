/**
 * The transport ceiling of bench/run.ts: a bare node:http server and a bare @grpc/grpc-js
 * server that read each request and answer a fixed body, byte for byte the size of tsserve's
 * answer to the same request, with no decoding, no model and no worker hop. What tsserve
 * serves is then also reported as a share of what Node itself can do on the same cores.
 *
 *   node dist/bench/ceiling-server.js HTTP_PORT GRPC_PORT BODIES_JSON_FILE
 *
 * BODIES_JSON_FILE holds base64 bodies: {"json": ..., "binary": ..., "binaryHeaderLength": N,
 * "grpc": ...}. HTTP requests with content-type application/json get the JSON body; others
 * get the binary one with Inference-Header-Content-Length. Any unary call to the inference
 * service's ModelInfer gets the gRPC message (serialised once; the request is not parsed).
 * Prints "listening" once both are bound.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import * as grpc from '@grpc/grpc-js';
import { INFERENCE_SERVICE, loadDefinitions } from '../src/grpc/proto.js';
import { disableNagle } from '../src/grpc/no-delay.js';

const [httpPort, grpcPort, bodiesFile] = process.argv.slice(2);
if (!httpPort || !grpcPort || !bodiesFile) {
  process.stderr.write('usage: node dist/bench/ceiling-server.js HTTP_PORT GRPC_PORT BODIES_JSON_FILE\n');
  process.exit(2);
}
const bodies = JSON.parse(readFileSync(bodiesFile, 'utf8')) as { json: string; binary: string; binaryHeaderLength: number; grpc: string };
const json = Buffer.from(bodies.json, 'base64');
const binary = Buffer.from(bodies.binary, 'base64');
const grpcMessage = Buffer.from(bodies.grpc, 'base64');

const http = createServer((req, res) => {
  req.on('data', () => {});
  req.on('end', () => {
    if (req.headers['content-type'] === 'application/json') {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': json.byteLength });
      res.end(json);
    } else {
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-length': binary.byteLength,
        'inference-header-content-length': bodies.binaryHeaderLength,
      });
      res.end(binary);
    }
  });
});
http.keepAliveTimeout = 65_000;

// The real method path, with identity (de)serialisers: grpc-js's own cost and nothing else.
const method = (loadDefinitions()[INFERENCE_SERVICE] as grpc.ServiceDefinition)['ModelInfer']!;
const identity = (b: Buffer) => b;
const service: grpc.ServiceDefinition = {
  ModelInfer: {
    path: method.path,
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};
const grpcServer = new grpc.Server();
disableNagle(grpcServer); // as tsserve's own gRPC server does
grpcServer.addService(service, {
  ModelInfer: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => callback(null, grpcMessage),
});

http.listen(Number(httpPort), '127.0.0.1', () => {
  grpcServer.bindAsync(`127.0.0.1:${grpcPort}`, grpc.ServerCredentials.createInsecure(), (error) => {
    if (error) throw error;
    process.stdout.write('listening\n');
  });
});
process.once('SIGTERM', () => {
  grpcServer.forceShutdown();
  http.close(() => process.exit(0));
  http.closeAllConnections();
});
