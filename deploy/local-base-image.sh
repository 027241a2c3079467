#!/usr/bin/env bash
# Builds the image's base (localhost/node:20-bookworm-slim) without a registry: a Debian bookworm minbase root file
# system (debootstrap, from the Debian mirror) plus this machine's Node 20 and npm. For machines that reach Debian
# and npm but no container registry; elsewhere the Containerfile's default base (docker.io node) is the one to use.
#   bash deploy/local-base-image.sh && \
#   buildah bud --isolation chroot --build-arg NODE_IMAGE=localhost/node:20-bookworm-slim -f deploy/Containerfile -t glomseg:0.1.0 .
set -euo pipefail
# The image tools are this script's own needs, not the tests': installed here, not by scripts/setup.sh.
tools=(buildah debootstrap)
missing=()
for p in "${tools[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${missing[@]}"
fi
export STORAGE_DRIVER="${STORAGE_DRIVER:-vfs}"
rootfs="$(mktemp -d)"
trap 'rm -rf "$rootfs"' EXIT
debootstrap --variant=minbase bookworm "$rootfs" http://deb.debian.org/debian
node_version="$(node -p 'process.versions.node.split(".")[0]')"
[ "$node_version" = 20 ] || { echo "needs Node 20 on this machine (found $(node -v))" >&2; exit 1; }
install -D "$(command -v node)" "$rootfs/usr/bin/node"
mkdir -p "$rootfs/usr/lib/node_modules" "$rootfs/etc/ssl/certs"
cp -a "$(dirname "$(readlink -f "$(command -v npm)")")/.." "$rootfs/usr/lib/node_modules/npm"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/bin/npx"
cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/"
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
ctr="$(buildah from scratch)"
mnt="$(buildah mount "$ctr")"
cp -a "$rootfs/." "$mnt/"
buildah umount "$ctr" >/dev/null
buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --cmd '["node"]' "$ctr"
buildah commit -q --rm "$ctr" localhost/node:20-bookworm-slim
