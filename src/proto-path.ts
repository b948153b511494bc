/** Where the .proto files live: `proto/` at the package root, read at run time (tsc does not copy them). */
import { fileURLToPath } from 'node:url';

export const PROTO_DIR = fileURLToPath(new URL('../../proto/', import.meta.url));
