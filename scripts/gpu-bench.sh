#!/usr/bin/env bash
# The glomseg benchmark on a machine with an NVIDIA GPU, in one go (a few minutes; see docs/benchmarks.md).
#
#   On the networked development machine, from the repo root (packs Node, node_modules and the Vulkan/GL debs; the
#   PyTorch copy of the weights; the CUDA provider in parts, sent one per call, see scripts/gpu-cuda-provider.sh):
#     npm ci && bash ../shared/tools/gpu/prepare.sh && /usr/bin/python3 training/torch_limit.py --save .gpu/torch-limit.pt
#     bash scripts/gpu-cuda-provider.sh pack
#   On the GPU machine, from the repo root:
#     bash scripts/gpu-bench.sh                      # WebGPU, then the CPU on the same machine for comparison
#     DEVICES="webgpu cuda" SIZE=61440 bash scripts/gpu-bench.sh
#
# Environment:
#   DEVICES  execution providers to run, in order (default "webgpu cpu"; cuda needs the CUDA provider libraries,
#            which onnxruntime-node's installer fetches with ONNXRUNTIME_NODE_INSTALL_CUDA=v12 on a networked machine)
#   SIZE     edge of the generated mirror-tiled BigTIFF in level-0 pixels (default 30720: 900 model tiles, made in
#            well under a minute; 61440 is the full 3600-tile benchmark slide)
#   SOURCE   the real eval region to mirror-tile (default ../shared/data/hubmap-vu/eval-region/kidney-region.tif)
#   OUT      where the JSON files go (default bench-out/)
#   CPU_RAW_ITERATIONS  timed runs for the CPU baseline (default 20: the CPU is slow, the GPU run is the point)
#   BENCH_ARGS  more options for every bench run, e.g. "--models /path/to/models --workers 2"
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -f .gpu/setup.sh ]; then
  # Vulkan loader + GL dispatch libraries, NVIDIA's Vulkan ICD (VK_DRIVER_FILES), Node on PATH, node_modules.
  # shellcheck disable=SC1091
  source .gpu/setup.sh
fi
command -v node >/dev/null || { echo "gpu-bench: no node on PATH (run ../shared/tools/gpu/prepare.sh first and send .gpu along)" >&2; exit 1; }

DEVICES=${DEVICES:-webgpu cpu}
SIZE=${SIZE:-30720}
SOURCE=${SOURCE:-../shared/data/hubmap-vu/eval-region/kidney-region.tif}
OUT=${OUT:-bench-out}
SLIDE=/tmp/glomseg-bench/large-$SIZE.tif
mkdir -p "$OUT" /tmp/glomseg-bench

echo "== machine"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo "no nvidia-smi"
echo "VK_DRIVER_FILES=${VK_DRIVER_FILES:-unset}"
node --version

if [ ! -f "$SLIDE" ]; then
  [ -f "$SOURCE" ] || { echo "gpu-bench: the source region $SOURCE is missing; set SOURCE to kidney-region.tif" >&2; exit 1; }
  echo "== generating $SLIDE ($SIZE x $SIZE)"
  node --import tsx server/src/bench/make-large-slide.ts --size "$SIZE" --source "$SOURCE" --out "$SLIDE" | tee "$OUT/make-large-slide.json"
fi

status=0
# The PyTorch limit of the same weights (fp32 and fp16 on CUDA), from a copy that needs neither onnx nor PIL there:
# make it beside the checkout with `/usr/bin/python3 training/torch_limit.py --save .gpu/torch-limit.pt`.
if [ -f .gpu/torch-limit.pt ]; then
  echo "== PyTorch limit"
  python3 training/torch_limit.py --load .gpu/torch-limit.pt --tile 384 --batch 1 8 32 > "$OUT/torch-limit.json" || status=1
  cat "$OUT/torch-limit.json"
fi
for device in $DEVICES; do
  echo "== bench on $device"
  extra=()
  [ "$device" = cpu ] && extra=(--raw-iterations "${CPU_RAW_ITERATIONS:-20}")
  if ! GLOMSEG_BENCH_VERBOSE=1 timeout 420 node --import tsx server/src/bench/main.ts --device "$device" --slide "$SLIDE" \
      --json-out "$OUT/bench-$device.json" "${extra[@]}" ${BENCH_ARGS:-} > /dev/null; then
    echo "gpu-bench: the $device run failed (see above)" >&2
    status=1
  fi
done

# One line per device: the figures that matter.
for f in "$OUT"/bench-*.json; do
  [ -f "$f" ] || continue
  node -e '
    const r = require(require("path").resolve(process.argv[1]));
    const e = r.endToEnd ?? {};
    console.log([r.device.used, r.device.modelFile, r.raw.sessionRun.inputType,
      "raw " + r.raw.sessionRun.keptMpxPerSecond.toFixed(2) + " Mpx/s (" + r.raw.sessionRun.msPerRunMedian.toFixed(1) + " ms/run)",
      "e2e " + (e.keptMpxPerSecond ?? NaN).toFixed(2) + " Mpx/s", "ratio " + (r.ratios?.endToEndOverSessionRun ?? NaN).toFixed(2),
      "viewport " + r.viewport.medianFirstTileMs + "/" + r.viewport.medianLastTileMs + " ms",
      "peak RSS " + (r.memory.peakBytes / 2 ** 20).toFixed(0) + " MiB"].join(" | "));' "$f"
done
exit $status
