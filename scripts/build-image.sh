#!/usr/bin/env bash
# Builds the tsserve container image: `npm run build:image` or scripts/build-image.sh.
#
#   scripts/build-image.sh [--target cpu|cuda] [--tag NAME] [--local-base]
#                                      (defaults: cpu, tsserve:latest / tsserve:cuda)
#
# --local-base: where no registry can be reached (Docker Hub blocked, air-gapped), first build a
# stand-in Node base from Debian and this machine's node (scripts/build-local-base.sh; needs root
# and debootstrap) and build on it.
#
# Environment:
#   BASE_IMAGE        Debian-based Node.js image (default: the Dockerfile's node:22-bookworm-slim).
#                     Where no registry is reachable, any local Node image will do
#                     (--local-base builds one).
#   CUDA_BASE_IMAGE   base of the cuda target (default: the Dockerfile's nvidia/cuda image)
#   CONTAINER_ENGINE  docker or podman (default: docker when its daemon answers, else podman)
#
# Leaves exactly one new image, the tagged one: docker builds with BuildKit, which keeps its
# cache out of the image list; podman builds with --layers=false, so no untagged intermediate
# images are left (each build then starts from scratch: about 1 minute).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
target=cpu
tag=
local_base=
while (($#)); do
  case "$1" in
    --target) target=$2; shift 2 ;;
    --target=*) target=${1#*=}; shift ;;
    --tag) tag=$2; shift 2 ;;
    --tag=*) tag=${1#*=}; shift ;;
    --local-base) local_base=1; shift ;;
    -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-image: unknown argument '$1' (expected --target cpu|cuda, --tag NAME, --local-base)" >&2; exit 2 ;;
  esac
done
case "$target" in
  cpu) tag=${tag:-tsserve:latest} ;;
  cuda) tag=${tag:-tsserve:cuda} ;;
  *) echo "build-image: --target must be cpu or cuda, got '$target'" >&2; exit 2 ;;
esac

engine=${CONTAINER_ENGINE:-}
if [[ -z "$engine" ]]; then
  if command -v docker >/dev/null && docker info >/dev/null 2>&1; then engine=docker
  elif command -v podman >/dev/null; then engine=podman
  else echo "build-image: neither a docker daemon nor podman was found (set CONTAINER_ENGINE)" >&2; exit 1
  fi
fi

if [[ -n "$local_base" ]]; then
  BASE_IMAGE=$(CONTAINER_ENGINE=$engine "$REPO/scripts/build-local-base.sh" | tail -1)
fi

args=(build --target "$target" -t "$tag")
[[ -n "${BASE_IMAGE:-}" ]] && args+=(--build-arg "BASE_IMAGE=$BASE_IMAGE")
[[ -n "${CUDA_BASE_IMAGE:-}" ]] && args+=(--build-arg "CUDA_BASE_IMAGE=$CUDA_BASE_IMAGE")
case "$engine" in
  # --format docker keeps the HEALTHCHECK (OCI images have none); host network: no CNI bridge.
  podman) args+=(--format docker --layers=false --network=host) ;;
  docker) export DOCKER_BUILDKIT=1 ;;
esac

echo "build-image: $engine ${args[*]} $REPO" >&2
"$engine" "${args[@]}" "$REPO"
size=$("$engine" image inspect --format '{{.Size}}' "$tag")
echo "build-image: built $tag ($((size / 1000000)) MB)" >&2
