#!/usr/bin/env bash
# The CUDA execution provider for onnxruntime-node on the GPU machine, which has no registry.
#
# onnxruntime-node's own installer downloads the provider from outside the npm registry (ONNXRUNTIME_NODE_INSTALL_CUDA),
# which neither machine here can reach. The npm registry carries the official ONNX Runtime 1.29.0 CUDA 13 provider
# libraries inside a Unity repackaging (com.github.asus4.onnxruntime.linux-x64-gpu@0.4.9); they load beside
# onnxruntime-node 1.29.0's own binary, so the measurement pins that version's binary next to them.
#
#   bash scripts/gpu-cuda-provider.sh pack      # here: npm pack the three, keep linux x64, xz, split into parts
#   bash scripts/gpu-cuda-provider.sh install   # on the GPU machine: join the parts, put onnxruntime-node 1.29.0 with
#                                               # the CUDA provider in node_modules, print the LD_LIBRARY_PATH that
#                                               # finds cuBLAS/cuDNN in PyTorch's wheels, and what ldd cannot resolve
#
# A device call carries at most 64 MiB, so the parts are sent one per call into the warm machine (ignored files stay
# there between calls): carry .gpu/cuda-parts/part-NN with each call, then run install. PART_MB sets the part size.
set -euo pipefail
cd "$(dirname "$0")/.."
PROVIDER_PACKAGE=com.github.asus4.onnxruntime.linux-x64-gpu@0.4.9
ORT_PACKAGE=onnxruntime-node@1.29.0
COMMON_PACKAGE=onnxruntime-common@1.29.0
PARTS=.gpu/cuda-parts
TARGET=.gpu/ort-cuda

case "${1:-}" in
  pack)
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    (cd "$work" && npm pack --silent "$PROVIDER_PACKAGE" "$ORT_PACKAGE" "$COMMON_PACKAGE" >/dev/null)
    # node_modules/onnxruntime-node (1.29.0, linux x64 only) with the CUDA provider in its bin folder, and its
    # onnxruntime-common: replaces the installed pair on the GPU machine for the measurement.
    mkdir -p "$work/tree/onnxruntime-node" "$work/tree/onnxruntime-common" "$work/provider"
    tar -xzf "$work"/onnxruntime-node-1*.tgz -C "$work/tree/onnxruntime-node" --strip-components=1 \
      --exclude='package/bin/napi-v6/darwin' --exclude='package/bin/napi-v6/win32' --exclude='package/bin/napi-v6/linux/arm64'
    tar -xzf "$work"/onnxruntime-common-*.tgz -C "$work/tree/onnxruntime-common" --strip-components=1
    tar -xzf "$work"/com.github.asus4.*.tgz -C "$work/provider" --strip-components=4 \
      package/Plugins/Linux/x64/libonnxruntime_providers_cuda.so package/Plugins/Linux/x64/libonnxruntime_providers_shared.so
    mv "$work"/provider/*.so "$work/tree/onnxruntime-node/bin/napi-v6/linux/x64/"
    rm -rf "$PARTS" && mkdir -p "$PARTS"
    tar -cf - -C "$work/tree" . | xz -T0 -6 | split -b "${PART_MB:-48}M" -d - "$PARTS/part-"
    (cd "$PARTS" && sha256sum part-* > SHA256SUMS)
    ls -la "$PARTS"
    echo "carry one $PARTS/part-NN per device call (SHA256SUMS with the last), then: bash scripts/gpu-cuda-provider.sh install"
    ;;
  install)
    (cd "$PARTS" && sha256sum -c --quiet SHA256SUMS)
    rm -rf "$TARGET" && mkdir -p "$TARGET"
    cat "$PARTS"/part-* | xz -dc | tar -xf - -C "$TARGET"
    rm -rf node_modules/onnxruntime-node node_modules/onnxruntime-common
    cp -a "$TARGET/onnxruntime-node" "$TARGET/onnxruntime-common" node_modules/
    # cuBLAS, cuDNN and the CUDA runtime ship inside PyTorch's nvidia-* wheels on the GPU machine.
    libs=$(python3 - <<'PY'
import glob, os, site
roots = site.getsitepackages() + [site.getusersitepackages()]
print(':'.join(sorted({d for r in roots for d in glob.glob(os.path.join(r, 'nvidia', '*', 'lib'))})))
PY
)
    bin=node_modules/onnxruntime-node/bin/napi-v6/linux/x64
    echo "export LD_LIBRARY_PATH=$PWD/$bin${libs:+:$libs}\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
    LD_LIBRARY_PATH="$PWD/$bin${libs:+:$libs}" ldd "$bin/libonnxruntime_providers_cuda.so" | grep 'not found' >&2 || echo "ldd: every library of the CUDA provider resolves" >&2
    ;;
  *)
    echo "usage: bash scripts/gpu-cuda-provider.sh pack|install" >&2
    exit 2
    ;;
esac
