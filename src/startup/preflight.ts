/**
 * What can be checked before any model loads, so that a mistake costs seconds rather than a
 * model load: the model directory exists, and the ports are numbers and free.
 */
import { stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { StartupError } from './startup-error.js';

export interface PortFlag {
  flag: string;
  port: number;
  /** What else the user may do, e.g. turn the listener off. */
  alternative?: string;
}

/** No two listeners ask for the same port (the flags' declarations bound each to 0..65535). */
export function checkPortNumbers(ports: readonly PortFlag[]): void {
  const [a, b] = ports;
  if (a && b && a.port !== 0 && a.port === b.port)
    throw new StartupError(`${a.flag} and ${b.flag} are both ${a.port}: give them different ports`);
}

function tryListen(host: string, port: number): Promise<NodeJS.ErrnoException | undefined> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) => resolve(error));
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve(undefined)));
  });
}

/** The reason a listener could not bind, naming its flag; undefined when it is no bind error. */
export function bindError(host: string, { flag, port, alternative }: PortFlag, error: NodeJS.ErrnoException): StartupError | undefined {
  const or = alternative ? `, or ${alternative}` : '';
  if (error.code === 'EADDRINUSE')
    return new StartupError(`${flag} ${port}: port ${port} on ${host} is already in use; choose another ${flag}${or}`);
  if (error.code === 'EACCES')
    return new StartupError(`${flag} ${port}: no permission to listen on port ${port}; use a port above 1023${or}`);
  if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND')
    return new StartupError(`--host ${host} is not an address of this machine; use 0.0.0.0 or 127.0.0.1`);
  return undefined;
}

/** Binds each port once and lets it go, so a port in use is found before the models load. */
export async function checkPortsFree(host: string, ports: readonly PortFlag[]): Promise<void> {
  for (const port of ports) {
    if (port.port === 0) continue;
    const error = await tryListen(host, port.port);
    if (error) throw bindError(host, port, error) ?? error;
  }
}

/** A local model_dir must exist: a file (one model) or a folder. */
export async function checkModelDir(path: string): Promise<void> {
  const found = await stat(path).catch((error: NodeJS.ErrnoException) => error);
  if (found instanceof Error) {
    const why = found.code === 'ENOENT' ? 'does not exist' : `cannot be read (${found.code})`;
    throw new StartupError(
      `--model_dir ${path} ${why}: point --model_dir at a model file, a model's folder or a repository of model folders`,
    );
  }
}

/** Runs a listener's `listen`, turning a bind failure into the StartupError that names its flag. */
export async function listenOn<T>(host: string, port: PortFlag, listen: () => Promise<T>): Promise<T> {
  try {
    return await listen();
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    // grpc-js reports a bind failure in its message only ("... EADDRINUSE ...").
    const code = e.code ?? /\b(EADDRINUSE|EACCES|EADDRNOTAVAIL)\b/.exec(e.message)?.[1];
    throw (code && bindError(host, port, { ...e, code })) || error;
  }
}
