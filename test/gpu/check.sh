#!/usr/bin/env bash
# The GPU check: builds, then runs test/gpu.test.ts, which compares CUDA with CPU outputs on the
# bundled models. On a machine without CUDA libraries or a GPU the test reports itself skipped.
# On a GPU node: npm ci && (cd node_modules/onnxruntime-node && ONNXRUNTIME_NODE_INSTALL=cuda12 node script/install.js) && test/gpu/check.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -d dist ] || npx tsc -p .
node --test dist/test/gpu.test.js
