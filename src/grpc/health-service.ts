/**
 * The standard gRPC health service (grpc.health.v1.Health), for Kubernetes gRPC probes and
 * grpc_health_probe. The overall status ("") and the inference service's are SERVING exactly
 * when GET /v2/health/ready answers 200.
 *
 * Written here rather than taken from grpc-health-check: that package serves statuses pushed
 * into it with setStatus, while readiness here is derived on demand from the data plane
 * (strict readiness follows every model's state), which has no change feed to push from.
 * Check computes it per call; Watch re-evaluates it every second.
 */
import {
  type ServerUnaryCall,
  type ServerWritableStream,
  type UntypedServiceImplementation,
  type sendUnaryData,
  status,
} from '@grpc/grpc-js';
import { INFERENCE_SERVICE } from './proto.js';
import type { HealthCheckRequest, ServingStatus } from './messages.js';

const SERVICES = ['', INFERENCE_SERVICE];
const WATCH_INTERVAL_MS = 1000;

type Response = { status: ServingStatus };

export class HealthService {
  private readonly watchers = new Set<() => void>();

  constructor(private readonly isReady: () => boolean) {}

  implementation(): UntypedServiceImplementation {
    return {
      Check: (call: ServerUnaryCall<HealthCheckRequest, Response>, callback: sendUnaryData<Response>) => {
        const { service } = call.request;
        const current = this.status(service);
        if (current === 'SERVICE_UNKNOWN')
          callback({ code: status.NOT_FOUND, details: `unknown service '${service}'; known: '', '${INFERENCE_SERVICE}'` });
        else callback(null, { status: current });
      },
      Watch: (call: ServerWritableStream<HealthCheckRequest, Response>) => this.watch(call),
    };
  }

  /** Sends NOT_SERVING to every watcher and ends its stream, so shutdown need not wait for them. */
  close(): void {
    for (const end of [...this.watchers]) end();
  }

  private status(service: string): ServingStatus {
    if (!SERVICES.includes(service)) return 'SERVICE_UNKNOWN';
    return this.isReady() ? 'SERVING' : 'NOT_SERVING';
  }

  private watch(call: ServerWritableStream<HealthCheckRequest, Response>): void {
    let last: ServingStatus | undefined;
    const send = (next: ServingStatus) => {
      if (next !== last) call.write({ status: next });
      last = next;
    };
    const timer = setInterval(() => send(this.status(call.request.service)), WATCH_INTERVAL_MS).unref();
    const stop = () => {
      clearInterval(timer);
      this.watchers.delete(end);
    };
    const end = () => {
      stop();
      if (SERVICES.includes(call.request.service)) send('NOT_SERVING');
      call.end();
    };
    this.watchers.add(end);
    call.on('cancelled', stop);
    send(this.status(call.request.service));
  }
}
