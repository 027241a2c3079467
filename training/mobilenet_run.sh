#!/usr/bin/env bash
# The long run of the U-Net on the ImageNet MobileNetV2 encoder (issue 27), its options defined once:
#   bash training/mobilenet_run.sh start     # a fresh run in the background (refuses to replace an existing state)
#   bash training/mobilenet_run.sh resume    # go on from the committed state, on any machine, in the background
#   bash training/mobilenet_run.sh stop      # SIGTERM: the run saves its state at the next step and exits
#   bash training/mobilenet_run.sh export [OUT]  # ONNX + card of the state's best checkpoint (default training/runs/mobilenet-unet)
#   bash training/mobilenet_run.sh status    # steps, wall time and the last validations from the JSON log
# Background runs: nice 10, one thread (a shared 2-core machine), log in $LOG (default /work/notes/train.log, outside
# git), PID in $STATE.pid. The state ($STATE, under 25 MB) and its JSON log ($STATE .json) are what to commit.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
STATE="${STATE:-training/state/mobilenet-unet.state.pt}"
LOG="${LOG:-/work/notes/train.log}"
THREADS="${THREADS:-1}"
OPTS=(--arch mobilenet-unet --freeze-until block_3_expand --domain-views --augment strong --scale-range 0.65,1.55
  --stain-normalization reinhard --stress-val --other-labs "$repo/../shared/data/other-labs/awke4-he-biopsy"
  --other-labs-weight 0.5 --other-labs-held-out C003 --epochs 200 --steps-per-epoch 100 --batch 8 --crop 192 --lr 1e-3 --warmup-steps 300 --ema 0.998
  --save-every-min 5 --state "$STATE" --checkpoint training/runs/mobilenet-unet/checkpoint.pt)
background() {
  mkdir -p "$(dirname "$LOG")" "$(dirname "$STATE")"
  # setsid: a session of its own, so the end of the shell or tool that started it (its process group) does not end it.
  setsid nohup nice -n 10 /usr/bin/python3 training/train.py "${OPTS[@]}" --threads "$THREADS" --out training/runs/mobilenet-unet \
    "$@" >>"$LOG" 2>&1 &
  echo $! >"$STATE.pid"
  echo "training in the background: PID $!, log $LOG"
}
case "${1:-}" in
  start)
    if [ -e "$STATE" ]; then echo "$STATE exists: use resume (or move it away)" >&2; exit 1; fi
    background ;;
  resume) background --resume ;;
  stop) kill -TERM "$(cat "$STATE.pid")" && echo "SIGTERM sent to $(cat "$STATE.pid"); the state is saved at the next step" ;;
  export) /usr/bin/python3 training/train.py "${OPTS[@]}" --threads "$THREADS" --resume --export-only \
    --out "${2:-training/runs/mobilenet-unet}" ;;
  status) /usr/bin/python3 -c "
import json, sys
log = json.load(open(sys.argv[1]))
print(f\"step {log['step']} of {log['totalSteps']}, {log['trainingSeconds'] / 3600:.2f} h of training, state {log['stateBytes'] / 1e6:.1f} MB\")
for h in log['history'][-8:]:
    print({k: h[k] for k in ('epoch', 'step', 'loss', 'valDiceBest', 'thresholdBest', 'otherLabsMeanImageDice', 'choice') if k in h})
print('best', log['best'])" "${STATE%.pt}.json" ;;
  *) sed -n 2,9p "$0"; exit 2 ;;
esac
