#!/usr/bin/env node
// The `tsserve` command. Committed rather than built, so that npm and npx can link it before the
// first build: `npm ci` compiles nothing (.npmrc), and npx keeps a package whose command file was
// missing when it first linked it, failing on even after the build.
import { runBuilt } from './run-built.js';

await runBuilt('../dist/src/cli.js');
