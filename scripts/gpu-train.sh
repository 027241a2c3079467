#!/usr/bin/env bash
# Training on a machine with an NVIDIA GPU (PyTorch with CUDA, no ../shared there), in one prepared run.
#
#   On the development machine, from the repo root: pack the split=train tiles (never the eval region) in two parts
#   of under 40 MB, since one call carries at most 64 MiB:
#     bash scripts/gpu-train.sh pack                       # -> .gpu/train-data/part-1.tar, part-2.tar
#   Then two calls on the GPU machine (what a call carries stays there for the next):
#     carry .gpu/train-data/part-1.tar:  bash scripts/gpu-train.sh receive
#     carry .gpu/train-data/part-2.tar:  MINUTES=8 bash scripts/gpu-train.sh run
#   `run` continues from the shipped model (--init-onnx models/glomseg-unet.onnx) with the shipped options and a
#   larger batch, and writes the model, its card, the resumable state and the log to $OUT (default bench-out/train),
#   so the run can go on later anywhere with `npm run train -- ... --state STATE --resume`.
#
# Environment: MINUTES (training budget, default 8), BATCH (default 32), CROP (default 256), OUT, and BASE (the
# U-Net's base width, default 16 as shipped; 24 widens the shipped model as it starts, see warm_start.py).
set -euo pipefail
cd "$(dirname "$0")/.."
data=.gpu/train-data

case "${1:-}" in
  pack)
    source_dir=../shared/data/hubmap-vu
    mkdir -p "$data"
    mapfile -t ids < <(awk -F, 'NR > 1 && $6 ~ /^train/ { print $1 }' "$source_dir/splits.csv")
    half=$(( (${#ids[@]} + 1) / 2 ))
    for part in 1 2; do
      files=(splits.csv)
      start=$(( (part - 1) * half ))
      for id in "${ids[@]:start:half}"; do files+=("tiles/$id.jpg" "tiles/$id.json"); done
      tar -C "$source_dir" -cf "$data/part-$part.tar" "${files[@]}"
    done
    ls -l "$data"
    ;;
  receive | run)
    mkdir -p "$data/hubmap-vu"
    for tar in "$data"/part-*.tar; do tar -C "$data/hubmap-vu" -xf "$tar"; done
    echo "tiles here: $(ls "$data/hubmap-vu/tiles" | grep -c '\.jpg$')"
    [[ "$1" == receive ]] && exit 0
    out="${OUT:-bench-out/train}"
    mkdir -p "$out"
    python3 training/train.py --data "$data/hubmap-vu" --out "$out" --checkpoint "$out/glomseg-unet.pt" \
      --state "$out/state.pt" --parity-fixture "$out/parity" --epochs 100000 --steps-per-epoch 50 \
      --batch "${BATCH:-32}" --crop "${CROP:-256}" --lr 1.5e-3 --threads "$(nproc)" \
      --base "${BASE:-16}" --max-width "$(( ${BASE:-16} * 8 ))" \
      --augment strong --scale-range 0.5,2 --stain-normalization reinhard --stress-val \
      --init-onnx models/glomseg-unet.onnx --time-budget-min "${MINUTES:-8}" 2>&1 | tee "$out/train.log"
    ;;
  *)
    echo "usage: bash scripts/gpu-train.sh pack | receive | run" >&2
    exit 2
    ;;
esac
