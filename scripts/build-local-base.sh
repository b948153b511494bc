#!/usr/bin/env bash
# Builds a stand-in for the Dockerfile's Node base image where no registry can be reached:
# Debian bookworm minbase (debootstrap from a Debian mirror) with this machine's `node` and `npm`
# copied in, and a uid 1000 `node` user, as the official node image has. Then
#
#   BASE_IMAGE=localhost/tsserve-node-base npm run build:image
#
# builds tsserve on it (`npm run build:image -- --local-base` does both).
#
#   scripts/build-local-base.sh [--tag NAME]          (default localhost/tsserve-node-base:latest)
#
# Environment:
#   CONTAINER_ENGINE         docker or podman (default: docker when its daemon answers, else podman)
#   TSSERVE_DEBIAN_MIRROR    debootstrap mirror (default http://deb.debian.org/debian)
#   TSSERVE_CONTAINER_CACHE  where the Debian rootfs tarball is kept between runs
#                            (default /var/cache/tsserve-container-test; a miss runs debootstrap)
#   TSSERVE_DEBIAN_IMAGE     tag of the intermediate Debian image (removed at the end)
# Needs root (debootstrap) and the debootstrap package. Prints the tag it built, last.
set -euo pipefail
tag=localhost/tsserve-node-base:latest
while (($#)); do
  case "$1" in
    --tag) tag=$2; shift 2 ;;
    --tag=*) tag=${1#*=}; shift ;;
    -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-local-base: unknown argument '$1' (expected --tag NAME)" >&2; exit 2 ;;
  esac
done
CACHE=${TSSERVE_CONTAINER_CACHE:-/var/cache/tsserve-container-test}
MIRROR=${TSSERVE_DEBIAN_MIRROR:-http://deb.debian.org/debian}
DEBIAN_IMAGE=${TSSERVE_DEBIAN_IMAGE:-localhost/tsserve-base-debian:$$}

engine=${CONTAINER_ENGINE:-}
if [[ -z "$engine" ]]; then
  if command -v docker >/dev/null && docker info >/dev/null 2>&1; then engine=docker
  elif command -v podman >/dev/null; then engine=podman
  else echo "build-local-base: neither a docker daemon nor podman was found (set CONTAINER_ENGINE)" >&2; exit 1
  fi
fi
command -v debootstrap >/dev/null || { echo "build-local-base: needs debootstrap (apt-get install debootstrap)" >&2; exit 1; }
[[ $(id -u) == 0 ]] || { echo "build-local-base: debootstrap needs root" >&2; exit 1; }

work=$(mktemp -d /var/tmp/tsserve-base.XXXXXX)
trap 'rm -rf "$work"; "$engine" rmi -f "$DEBIAN_IMAGE" >/dev/null 2>&1 || true' EXIT
say() { echo "build-local-base: $*" >&2; }

rootfs_tar=$CACHE/debian-bookworm-minbase.tar
if [[ -s "$rootfs_tar" ]] && "$engine" import -q "$rootfs_tar" "$DEBIAN_IMAGE" >/dev/null 2>&1; then
  say "Debian base from cache $rootfs_tar"
else
  say "debootstrap --variant=minbase bookworm ($MIRROR)"
  debootstrap --variant=minbase bookworm "$work/rootfs" "$MIRROR" >"$work/debootstrap.log" 2>&1 \
    || { tail -20 "$work/debootstrap.log" >&2; say "debootstrap failed"; exit 1; }
  rm -rf "$work"/rootfs/var/cache/apt/archives/*.deb "$work"/rootfs/var/lib/apt/lists/*
  tar -C "$work/rootfs" -cf "$work/rootfs.tar" .
  rm -rf "$work/rootfs"
  "$engine" import -q "$work/rootfs.tar" "$DEBIAN_IMAGE" >/dev/null
  # The cache is an optimisation: a folder we cannot write just means debootstrap runs next time.
  if mkdir -p "$CACHE" 2>/dev/null && cp "$work/rootfs.tar" "$CACHE/.rootfs.tar.$$"; then
    mv "$CACHE/.rootfs.tar.$$" "$rootfs_tar"
  fi
  rm -f "$work/rootfs.tar"
fi

node_bin=$(readlink -f "$(command -v node)")
npm_dir=$(cd "$(dirname "$(readlink -f "$(command -v npm)")")/.." && pwd)
ctx=$work/node-context
mkdir -p "$ctx"
cp "$node_bin" "$ctx/node"
cp -a "$npm_dir" "$ctx/npm"
# npm inside the build must trust what npm on the host trusts (an egress proxy's CA, say).
ca=${NODE_EXTRA_CA_CERTS:-}
if [[ -z "$ca" ]]; then ca=$(npm config get cafile 2>/dev/null || true); fi
if [[ -n "$ca" && "$ca" != null && -f "$ca" ]]; then cp "$ca" "$ctx/extra-ca.crt"; else : >"$ctx/extra-ca.crt"; fi
cat >"$ctx/Containerfile" <<EOF
FROM $DEBIAN_IMAGE
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
COPY extra-ca.crt /usr/local/share/extra-ca.crt
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \\
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \\
 && groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node
ENV NODE_EXTRA_CA_CERTS=/usr/local/share/extra-ca.crt
CMD ["node"]
EOF
say "Node $(node --version) from this machine on it"
args=(build -q -t "$tag")
# --format docker keeps what the official image has; host network: no CNI bridge here.
[[ "$engine" == podman ]] && args+=(--format docker --network=host)
"$engine" "${args[@]}" "$ctx" >"$work/node-build.log" 2>&1 || { tail -20 "$work/node-build.log" >&2; say "building the Node base failed"; exit 1; }
echo "$tag"
