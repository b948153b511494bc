/**
 * A reference floor for the end-to-end binary point: plain node:http that reads the whole
 * body and writes the same bytes back (one body buffer, one response buffer), with none of
 * tsserve's decoding, worker hop or model. Started by bench/run.ts as a child process:
 *
 *   node dist/bench/echo-server.js PORT
 *
 * It prints "listening" once bound.
 */
import { createServer } from 'node:http';

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0) {
  process.stderr.write('usage: node dist/bench/echo-server.js PORT\n');
  process.exit(2);
}

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const out = Buffer.allocUnsafe(body.byteLength);
    body.copy(out);
    const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
    const hl = req.headers['inference-header-content-length'];
    if (typeof hl === 'string') headers['inference-header-content-length'] = hl;
    res.writeHead(200, headers);
    res.end(out);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1', () => process.stdout.write('listening\n'));
process.once('SIGTERM', () => server.close(() => process.exit(0)));
