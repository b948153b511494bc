# tsserve container image.
#
#   docker build -t tsserve .                          CPU image (the default, last stage)
#   docker build --target cuda -t tsserve:cuda .       CUDA 12 image (linux/amd64 only)
#   docker run -p 8080:8080 -v $PWD/models:/mnt/models tsserve
#
# BASE_IMAGE must be a Debian-based Node.js image with node at /usr/local/bin/node (the official
# node:*-slim images are). Where no registry is reachable, build a stand-in and pass it with
# --build-arg BASE_IMAGE=... (test/container/smoke.sh does).
ARG BASE_IMAGE=node:22-bookworm-slim
# onnxruntime-node 1.30's CUDA execution provider is built for CUDA 12 and cuDNN 9.
ARG CUDA_BASE_IMAGE=nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04

# ---- build: dev dependencies and tsc -------------------------------------------------------
FROM ${BASE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts, as the project's .npmrc says (the build context leaves it out): no
# dependency's install script runs, whichever npm the base image has.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY src src
COPY runtimes runtimes
RUN npx tsc -p . && find dist -name '*.map' -delete

# ---- production dependencies (CPU) ----------------------------------------------------------
FROM ${BASE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# onnxruntime-node ships its CPU binaries for every OS in the npm package (about 290 MB); keep
# only this platform's. Nothing else in the production tree has an install script.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && ort=node_modules/onnxruntime-node/bin/napi-v6 \
 && arch="$(node -p process.arch)" \
 && rm -rf "$ort/darwin" "$ort/win32" \
 && find "$ort/linux" -mindepth 1 -maxdepth 1 ! -name "$arch" -exec rm -rf {} + \
 && test -f "$ort/linux/$arch/onnxruntime_binding.node" \
 && rm -rf node_modules/onnxruntime-web/dist
# transformers.js pulls onnxruntime-web (136 MB of WebAssembly builds) but its Node build bundles
# what it uses and runs on onnxruntime-node: the browser builds go (test/hf-*.test.ts pass without them).

# ---- production dependencies (CUDA) ---------------------------------------------------------
FROM deps AS deps-cuda
# Runs onnxruntime-node's install script, which downloads the CUDA 12 execution provider
# (libonnxruntime_providers_cuda.so and friends) from NuGet into its bin folder: the one install
# step that downloads, run by name here because npm ci runs no install script (.npmrc).
RUN cd node_modules/onnxruntime-node && ONNXRUNTIME_NODE_INSTALL=cuda12 node script/install.js && cd /app \
 && test -f node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so

# ---- runtime (CUDA) -------------------------------------------------------------------------
FROM ${CUDA_BASE_IMAGE} AS cuda
# The nvidia/cuda images carry no Node.js: take the binary from the Node base (it links only
# glibc and libstdc++, which the Ubuntu base has).
COPY --from=build /usr/local/bin/node /usr/local/bin/node
ENV NODE_ENV=production
# glibc malloc: see the CPU stage.
ENV MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=134217728
WORKDIR /app
COPY package.json ./
COPY --from=deps-cuda /app/node_modules node_modules
COPY --from=build /app/dist/src dist/src
COPY --from=build /app/dist/runtimes dist/runtimes
# The gRPC service's .proto files, read at run time.
COPY proto proto
# Numeric, so Kubernetes' runAsNonRoot can verify it (uid 1000 is `ubuntu` in Ubuntu 24.04 bases).
USER 1000:1000
EXPOSE 8080 8081
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 CMD ["node", "dist/src/healthcheck.js"]
ENTRYPOINT ["node", "dist/src/cli.js"]
# No default arguments: the defaults (--model_dir /mnt/models, ports 8080 and 8081) come from the
# flags' own defaults, so TSSERVE_HTTP_PORT, TSSERVE_GRPC_PORT and TSSERVE_MODEL_DIR work with -e.
CMD []

# ---- runtime (CPU, the default target) ------------------------------------------------------
FROM ${BASE_IMAGE} AS cpu
ENV NODE_ENV=production
# glibc malloc: blocks under 32 MiB come from the heap and stay mapped until 128 MiB are free at
# its top. By default glibc maps every block larger than the largest it has freed afresh, and a
# generation step's K/V outputs (one new JS buffer per layer, a column larger than the last
# step's) are always larger: each step then page-faults in and unmaps ~50 MB. gpt2-small, batch
# 16, 100 cached tokens: 114 -> 48 ms per step (package.json's start script sets the same).
ENV MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=134217728
WORKDIR /app
COPY package.json ./
COPY --from=deps /app/node_modules node_modules
COPY --from=build /app/dist/src dist/src
COPY --from=build /app/dist/runtimes dist/runtimes
# The gRPC service's .proto files, read at run time.
COPY proto proto
# uid 1000 is `node` in the official images; numeric, so Kubernetes' runAsNonRoot can verify it.
USER 1000:1000
EXPOSE 8080 8081
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 CMD ["node", "dist/src/healthcheck.js"]
ENTRYPOINT ["node", "dist/src/cli.js"]
# No default arguments: the defaults (--model_dir /mnt/models, ports 8080 and 8081) come from the
# flags' own defaults, so TSSERVE_HTTP_PORT, TSSERVE_GRPC_PORT and TSSERVE_MODEL_DIR work with -e.
CMD []
