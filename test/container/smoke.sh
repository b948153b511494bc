#!/usr/bin/env bash
# Container smoke test (run by .ci/run after npm test). Builds the image with scripts/build-image.sh (podman) on a
# stand-in Node base image (no registry is reachable), serves the bundled models from it on
# 127.0.0.1, infers over REST, runs the image's HEALTHCHECK, then stops the container with SIGTERM
# while a slow request is running and checks that the request finished and the server exited 0.
# How podman is set up here, and why: ../shared/reference/container.md.
#
# Needs root and Debian apt (installs podman runc debootstrap curl if missing).
#   TSSERVE_SKIP_CONTAINER_TEST=1   skip (prints SKIP, exits 0); CI must not set it
#   TSSERVE_CONTAINER_CACHE=DIR     where the debootstrap rootfs tarball is cached between runs
#                                   (default /var/cache/tsserve-container-test; a miss or a bad
#                                   tarball just means debootstrap runs again)
#   TSSERVE_DEBIAN_MIRROR=URL       debootstrap mirror (default http://deb.debian.org/debian)
# Prints one line "container smoke test: PASS ..." or "container smoke test: FAIL: ..." last.
set -euo pipefail

NAME='container smoke test'
if [[ "${TSSERVE_SKIP_CONTAINER_TEST:-}" == 1 ]]; then
  echo "$NAME: SKIP (TSSERVE_SKIP_CONTAINER_TEST=1)"
  exit 0
fi

REPO=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${TSSERVE_CONTAINER_CACHE:-/var/cache/tsserve-container-test}
MIRROR=${TSSERVE_DEBIAN_MIRROR:-http://deb.debian.org/debian}
TAG=$$-$RANDOM
BASE_IMAGE=localhost/tsserve-smoke-debian:$TAG
NODE_IMAGE=localhost/tsserve-smoke-node:$TAG
IMAGE=localhost/tsserve-smoke:$TAG
CONTAINER=tsserve-smoke-$TAG
WORK=
STARTED=$SECONDS

RESULT=

say() { printf '[container-smoke %3ds] %s\n' $((SECONDS - STARTED)) "$*" >&2; }
fail() {
  RESULT="FAIL: $*"
  exit 1
}

# Runs on every exit: removes what we made, then prints the one PASS/FAIL line, last.
cleanup() {
  local status=$?
  set +e
  if [[ -n "$WORK" ]]; then
    if [[ $status -ne 0 ]] && podman container exists "$CONTAINER" 2>/dev/null; then
      say "container log (last 40 lines):"
      podman logs --tail 40 "$CONTAINER" >&2 2>&1
    fi
    if [[ $status -ne 0 && -s "$WORK/podman.log" ]]; then
      say "podman's own messages (last 10 lines):"
      tail -10 "$WORK/podman.log" >&2
    fi
    podman rm -f "$CONTAINER" >/dev/null 2>&1
    podman rmi -f "$IMAGE" "$NODE_IMAGE" "$BASE_IMAGE" >/dev/null 2>&1
    podman image prune -f >/dev/null 2>&1
    # Overlay mounts left by an interrupted build would make rm fail.
    findmnt -rn -o TARGET | grep -F "$WORK/" | sort -r | xargs -r -n1 umount -l 2>/dev/null
    rm -rf "$WORK"
  fi
  if [[ $status -eq 0 ]]; then
    echo "$NAME: ${RESULT:-PASS}"
  else
    echo "$NAME: ${RESULT:-FAIL: a command failed (exit $status) near line ${ERR_LINE:-?}}"
  fi
  exit $status
}
trap cleanup EXIT
trap 'ERR_LINE=$LINENO' ERR
trap 'fail "interrupted"' INT TERM

[[ $(id -u) == 0 ]] || fail "needs root (podman, debootstrap); set TSSERVE_SKIP_CONTAINER_TEST=1 to skip"

# ---- tools ----------------------------------------------------------------------------------
PACKAGES=(podman runc debootstrap curl)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  say "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 \
    || { apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; } \
    || fail "could not install ${missing[*]} with apt-get"
fi

# ---- podman, configured in a folder of our own (nothing under /etc is touched) ----------------
WORK=$(mktemp -d /var/tmp/tsserve-smoke.XXXXXX)
mkdir -p "$WORK/storage" "$WORK/run" "$WORK/tmp"
nofile=$(ulimit -Hn)
nproc=$(ulimit -Hu)
[[ $nproc == unlimited || $nproc -gt 32768 ]] && nproc=32768
cat >"$WORK/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$WORK/storage"
runroot = "$WORK/run"
EOF
cat >"$WORK/containers.conf" <<EOF
[containers]
netns = "host"
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
tmp_dir = "$WORK/tmp"
EOF
export CONTAINERS_STORAGE_CONF=$WORK/storage.conf CONTAINERS_CONF=$WORK/containers.conf

# ---- stand-in base image: Debian minbase plus the host's node (the README's --local-base) ------
say "scripts/build-local-base.sh (Debian $MIRROR, node $(node --version) from the host)"
CONTAINER_ENGINE=podman TSSERVE_DEBIAN_IMAGE=$BASE_IMAGE TSSERVE_CONTAINER_CACHE=$CACHE TSSERVE_DEBIAN_MIRROR=$MIRROR \
  "$REPO/scripts/build-local-base.sh" --tag "$NODE_IMAGE" >"$WORK/base-build.log" 2>&1 \
  || { tail -20 "$WORK/base-build.log" >&2; fail "scripts/build-local-base.sh failed"; }

# ---- our image ------------------------------------------------------------------------------
say "scripts/build-image.sh (the README's command) with BASE_IMAGE=$NODE_IMAGE"
dangling_before=$(podman images -q --filter dangling=true | sort)
build_started=$SECONDS
BASE_IMAGE=$NODE_IMAGE CONTAINER_ENGINE=podman "$REPO/scripts/build-image.sh" --tag "$IMAGE" >"$WORK/build.log" 2>&1 \
  || { tail -30 "$WORK/build.log" >&2; fail "scripts/build-image.sh failed"; }
[[ "$(podman images -q --filter dangling=true | sort)" == "$dangling_before" ]] \
  || fail "the build left untagged images behind: $(podman images --filter dangling=true --format '{{.ID}} {{.Size}}' | tr '\n' ' ')"
build_seconds=$((SECONDS - build_started))
image_mb=$(($(podman image inspect --format '{{.Size}}' "$IMAGE") / 1000000))
base_mb=$(($(podman image inspect --format '{{.Size}}' "$NODE_IMAGE") / 1000000))
say "built in ${build_seconds}s: ${image_mb} MB (stand-in base ${base_mb} MB, ours $((image_mb - base_mb)) MB)"

[[ $(podman image inspect --format '{{.Config.User}}' "$IMAGE") == 1000:1000 ]] || fail "image user is not 1000:1000"
[[ $(podman image inspect --format '{{json .Config.Entrypoint}}' "$IMAGE") == '["node","dist/src/cli.js"]' ]] \
  || fail "unexpected entrypoint $(podman image inspect --format '{{json .Config.Entrypoint}}' "$IMAGE")"
# No default arguments, so that the TSSERVE_* variables (ports, model dir) are not overridden.
cmd=$(podman image inspect --format '{{json .Config.Cmd}}' "$IMAGE")
[[ $cmd == null || $cmd == '[]' ]] || fail "unexpected default command $cmd (it would override TSSERVE_* variables)"
podman run --rm --network=host --entrypoint sh "$IMAGE" -c \
  'cd node_modules/onnxruntime-node/bin/napi-v6 && test ! -e darwin && test ! -e win32 && test "$(ls linux)" = "$(node -p process.arch)"' \
  2>>"$WORK/podman.log" || fail "onnxruntime-node's other-OS binaries were not pruned"

# ---- serve the bundled models (plus the slow test model, to watch a request drain) ----------
mkdir -p "$WORK/models"
cp -r "$REPO/models/." "$WORK/models/"
cp -r "$REPO/test/fixtures/slow" "$WORK/models/slow"
chmod -R a+rX "$WORK/models"
read -r HTTP_PORT GRPC_PORT < <(node -e '
  const net = require("node:net");
  const a = net.createServer().listen(0, "127.0.0.1", () => {
    const b = net.createServer().listen(0, "127.0.0.1", () => {
      console.log(a.address().port, b.address().port); a.close(); b.close();
    });
  });')

say "podman run on 127.0.0.1:$HTTP_PORT (gRPC port $GRPC_PORT)"
# No --init: node runs as PID 1, as in a Kubernetes pod, and must handle SIGTERM itself.
# podman's stderr goes to podman.log: without systemd it logs an error for each healthcheck timer
# (harmless; `podman healthcheck run` below runs the check by hand).
# Ports and host from the environment, as a user overriding them with -e would: the image's
# defaults must not pin them.
podman run -d --network=host --name "$CONTAINER" -v "$WORK/models:/mnt/models:ro" \
  -e TSSERVE_HTTP_PORT="$HTTP_PORT" -e TSSERVE_GRPC_PORT="$GRPC_PORT" -e TSSERVE_HOST=127.0.0.1 "$IMAGE" >/dev/null 2>>"$WORK/podman.log" \
  || fail "podman run failed"

BASE_URL=http://127.0.0.1:$HTTP_PORT
ready=
for _ in $(seq 1 120); do
  [[ $(podman inspect --format '{{.State.Running}}' "$CONTAINER") == true ]] || fail "the container exited while starting"
  if curl -fsS -o /dev/null "$BASE_URL/v2/health/ready" 2>/dev/null; then ready=1 && break; fi
  sleep 0.5
done
[[ -n "$ready" ]] || fail "not ready after 60 s"

# REST: liveness, then every row of the classifier's reference cases must get scikit-learn's label.
node --input-type=module - "$BASE_URL" "$WORK/models/classifier/cases.json" <<'JS' || fail "REST checks failed"
import { readFileSync } from 'node:fs';
const [url, casesFile] = process.argv.slice(2);
const cases = JSON.parse(readFileSync(casesFile, 'utf8'));
const check = (ok, what) => { if (!ok) { console.error(`REST check failed: ${what}`); process.exit(1); } };
const live = await fetch(`${url}/v2/health/live`);
check(live.status === 200, `/v2/health/live answered ${live.status}`);
const res = await fetch(`${url}/v2/models/classifier/infer`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [cases.inputs.length, 4], data: cases.inputs.flat() }] }),
});
const body = await res.json();
check(res.status === 200, `infer answered ${res.status}: ${JSON.stringify(body)}`);
const label = body.outputs.find((o) => o.name === 'label');
check(JSON.stringify(label.data) === JSON.stringify(cases.label), `labels ${JSON.stringify(label.data)}, expected ${JSON.stringify(cases.label)}`);
console.error(`REST: ${cases.inputs.length} rows classified as scikit-learn did`);
JS

# The image's own HEALTHCHECK, which has to find the server's (non-default) port.
podman healthcheck run "$CONTAINER" >>"$WORK/podman.log" 2>&1 || fail "the image's HEALTHCHECK reported unhealthy"
[[ $(podman inspect --format '{{.State.Healthcheck.Status}}' "$CONTAINER") == healthy ]] \
  || fail "health status is $(podman inspect --format '{{.State.Healthcheck.Status}}' "$CONTAINER")"

# ---- gRPC -----------------------------------------------------------------------------------
# A real gRPC client built from the repository's proto: ServerLive, then ModelInfer on every
# reference row (raw contents in, raw contents out), labels as scikit-learn gave them.
(cd "$REPO" && node --input-type=module - "$GRPC_PORT" "$WORK/models/classifier/cases.json" <<'JS') || fail "gRPC checks failed"
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
const [port, casesFile] = process.argv.slice(2);
const cases = JSON.parse(readFileSync(casesFile, 'utf8'));
const definition = protoLoader.loadSync('grpc_service.proto', { includeDirs: ['proto'], keepCase: true, longs: String, defaults: true });
const { inference } = grpc.loadPackageDefinition(definition);
const client = new inference.GRPCInferenceService(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
const call = (method, request) => new Promise((resolve, reject) => client[method](request, (error, reply) => (error ? reject(error) : resolve(reply))));
const live = await call('ServerLive', {});
if (live.live !== true) throw new Error(`ServerLive answered ${JSON.stringify(live)}`);
const rows = cases.inputs;
const raw = Buffer.from(new Float32Array(rows.flat()).buffer);
const reply = await call('ModelInfer', {
  model_name: 'classifier',
  inputs: [{ name: 'input', datatype: 'FP32', shape: [rows.length, 4] }],
  raw_input_contents: [raw],
});
const labelIndex = reply.outputs.findIndex((o) => o.name === 'label');
const bytes = reply.raw_output_contents[labelIndex];
const labels = [...new BigInt64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength))].map(Number);
if (JSON.stringify(labels) !== JSON.stringify(cases.label)) throw new Error(`gRPC labels ${labels} differ from ${cases.label}`);
client.close();
console.error(`gRPC: ServerLive, and ${rows.length} rows classified as scikit-learn did`);
JS
say "gRPC: ServerLive and ModelInfer answered correctly on port $GRPC_PORT"

# ---- SIGTERM with a request in flight: it must finish, then the server must exit 0 ----------
SLOW_N=1280 # about 1.7 s on a 2-core EPYC (test/fixtures/slow/TIMINGS.txt)
node --input-type=module - "$BASE_URL" "$SLOW_N" >"$WORK/slow.json" 2>&1 <<'JS' &
const [url, n] = process.argv.slice(2);
try {
  const res = await fetch(`${url}/v2/models/slow/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ inputs: [{ name: 'n', datatype: 'INT64', shape: [1], data: [Number(n)] }] }),
  });
  console.log(JSON.stringify({ status: res.status, body: await res.json() }));
} catch (error) {
  console.log(JSON.stringify({ error: String(error.cause ?? error) }));
}
JS
slow_pid=$!
# SIGTERM only once the server holds the request (its in-flight gauge says so): on a loaded
# machine the client can take longer than any fixed pause to start and connect.
in_flight=
for _ in $(seq 1 300); do
  kill -0 "$slow_pid" 2>/dev/null || fail "the slow request ended before SIGTERM; raise SLOW_N: $(cat "$WORK/slow.json")"
  if curl -fsS "$BASE_URL/metrics" 2>/dev/null | grep -q '^tsserve_inference_requests_in_flight{model_name="slow"} 1$'; then in_flight=1 && break; fi
  sleep 0.1
done
[[ -n "$in_flight" ]] || fail "the slow request never reached the server"
say "podman stop (SIGTERM) with a request in flight"
podman stop -t 30 "$CONTAINER" >/dev/null 2>>"$WORK/podman.log" || fail "podman stop failed"
wait "$slow_pid" || true
node -e '
  const r = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8"));
  const y = r.body?.outputs?.[0]?.data?.[0];
  // y = n up to float rounding in 96 chained MatMuls.
  if (r.status !== 200 || !(Math.abs(y - Number(process.argv[2])) < Number(process.argv[2]) / 100)) {
    console.error("the request in flight at SIGTERM did not finish:", JSON.stringify(r)); process.exit(1);
  }' "$WORK/slow.json" "$SLOW_N" || fail "the request in flight was not drained"
exit_code=$(podman inspect --format '{{.State.ExitCode}}' "$CONTAINER")
[[ $exit_code == 0 ]] || fail "the server exited with $exit_code after SIGTERM (137 means it was killed)"
# Into a file first: with pipefail, `podman logs | grep -q` fails whenever grep stops reading
# at its match and podman gets SIGPIPE writing the lines after it.
podman logs "$CONTAINER" > "$WORK/container.log" 2>&1 || true
grep -q '"signal":"SIGTERM"' "$WORK/container.log" || fail "the server did not log the SIGTERM it got"

RESULT="PASS (image ${image_mb} MB on a ${base_mb} MB stand-in base, built in ${build_seconds}s; REST infer, HEALTHCHECK, drain on SIGTERM, exit 0; total $((SECONDS - STARTED))s)"
