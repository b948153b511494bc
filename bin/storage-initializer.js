#!/usr/bin/env node
// The `storage-initializer` command: committed, not built, for the reason bin/tsserve.js gives.
import { runBuilt } from './run-built.js';

await runBuilt('../dist/src/storage/cli.js');
