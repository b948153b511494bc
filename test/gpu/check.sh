#!/usr/bin/env bash
# The GPU check: builds, then runs test/gpu.test.ts, which compares CUDA with CPU outputs on the
# bundled models. On a machine without CUDA libraries or a GPU the test reports itself skipped.
# On a GPU node: npm ci --onnxruntime-node-install=cuda12 && test/gpu/check.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -d dist ] || npx tsc -p .
node --test dist/test/gpu.test.js
