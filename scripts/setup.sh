#!/usr/bin/env bash
# Installs everything glomseg needs on a fresh Debian machine: the system packages that the tests, training and
# `npm start` use, then the npm dependencies. Safe to run again. test/scripts/setup.test.ts checks that these lists
# cover every Python import of training/ and every program the tests start.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: the one list. Each line says who needs it.
packages=(
  chromium           # browser tests: playwright-core drives /usr/bin/chromium (its libraries come with it)
  fonts-dejavu-core  # a font for Chromium to lay out and draw the viewer's text with
  python3            # /usr/bin/python3: training, and the tests that export a small ONNX model with PyTorch
  python3-torch      # training/*.py, test/server/inference/tiny-model.ts
  python3-numpy      # training/*.py
  python3-pil        # training/*.py: decoding tiles, drawing masks, resampling, JPEG coding in augmentation
  python3-onnx       # training/export_fp16.py, combine_onnx.py and quantize_int8.py (int8 QDQ), onnx.checker in training/smoke_test.sh
  python3-grpcio     # test/server/grpc/reflection_client.py: an independent client that knows the API by reflection only
  openssl            # test/helpers/test-ca.ts: a throwaway CA and server certificates for the TLS tests
  prometheus         # /usr/bin/promtool: test/server/metrics/server-metrics.test.ts lints the /metrics page with it
  python3-openslide  # test/server/slides/openslide_tool.py: OpenSlide's pixels, which the slide-reader tests compare ours with
  libopenslide0      # server/src/slides/readers/openslide-reader.ts (NDPI, MRXS, SCN, BIF, VMS, SVSLIDE; optional at run time), python3-openslide
  python3-tifffile   # test/server/slides/openslide_tool.py: writes the Aperio JPEG 2000 (33003/33005) test slides
  libtiff-tools      # /usr/bin/tiffcp: test/server/slides/tiff-codecs.test.ts makes zstd, WebP and LERC TIFFs with it
  libopenjp2-tools   # /usr/bin/opj_compress: openslide_tool.py encodes the JPEG 2000 tiles of the 33003/33005 test slides
  time               # /usr/bin/time -v: training/adapt_measure.sh reads the adaptation's peak RSS from it
)
# What those packages must make importable for /usr/bin/python3 (every import of the repository's Python files outside
# the standard library and their own folder), checked after the install so that a package that no longer provides it
# fails here.
python_modules=(torch numpy PIL onnx grpc google.protobuf openslide tifffile)
# Programs the tests and scripts start, checked after the install.
programs=(/usr/bin/chromium /usr/bin/python3 /usr/bin/promtool /usr/bin/tiffcp /usr/bin/opj_compress /usr/bin/time bash openssl)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
  echo "installing system packages: ${missing[*]}"
  $sudo apt-get update
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${missing[@]}"
fi

for program in "${programs[@]}"; do
  command -v "$program" >/dev/null || { echo "setup: '$program' is still missing after installing ${packages[*]}" >&2; exit 1; }
done
for module in "${python_modules[@]}"; do
  /usr/bin/python3 -c "import $module" 2>/dev/null || { echo "setup: /usr/bin/python3 cannot import '$module'" >&2; exit 1; }
done

# onnxruntime-node's install script downloads CUDA libraries; the CPU and WebGPU providers ship in the package.
export ONNXRUNTIME_NODE_INSTALL=skip
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
