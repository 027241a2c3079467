#!/usr/bin/env bash
# Issue 30's measurement: the H&E biopsy set as a new lab. The ground truth of the views of patients C001, C002 and
# C004 (12 views, 16 glomeruli) are the lab's corrections; the model is fine-tuned on them (holding out its share);
# the product (`glomseg score`, training/score_validation.sh --other-labs) scores patient C003's 16 views
# (27 glomeruli) before and after, and the eval region after (what the lab trades in the training domain).
#   bash training/adapt_measure.sh [OUT]     (default: a temporary folder; prints OUT/measure.json at the end)
# VIA=server (default): as a lab would. A server serves the four patients' views (flat images, --mpp 0.515) with an
#   annotation store; `glomseg annotations import` saves the corrections' GeoJSON as reviewed regions; `glomseg adapt
#   --make-default` runs AdaptModel (the server holds out its share and trains with adapt.py's defaults); C003 is then
#   scored with the registry's new default. Wall time: the whole `glomseg adapt` call; peak RSS: the trainer's (card).
# VIA=direct: training/adapt.py on regions made from the GeoJSON here (training/adapt_regions.py), with ADAPT_OPTS
#   (more adapt.py options, e.g. "--lr 5e-4 --ema 0.99"): for trying recipes. Time and RSS: /usr/bin/time -v.
# Environment: MODELS (parent model folder, default models), THREADS (2), MAX_MINUTES (12), MAX_STEPS (adapt.py's),
# EVAL_BEFORE=1 also scores the eval region with the parent. For trying recipes quickly: SKIP_BEFORE=1 does not
# score C003 with the parent (it finds none of its glomeruli: 0.000 / 0.000), SKIP_EVAL=1 does not score the eval
# region after. REPLAY=1 mixes the parent's own training tiles into every batch (training/replay_regions.py from
# ../shared/data/hubmap-vu; adapt.py --replay, serve --adapt-replay), half of each batch unless ADAPT_OPTS says
# otherwise (--replay-share, direct only).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
out="${1:-$(mktemp -d)}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
models="$(cd "${MODELS:-$repo/models}" && pwd)"
set_dir="${OTHER_LABS:-$repo/../shared/data/other-labs/awke4-he-biopsy}"
eval_dir="$repo/../shared/data/hubmap-vu/eval-region"
c003="$(awk -F, '$2 == "C003" { printf "%s ", $1 }' "$set_dir/tiles.csv")"

via="${VIA:-server}"
replay=()
if [[ -n "${REPLAY:-}" ]]; then
  /usr/bin/python3 training/replay_regions.py "$repo/../shared/data/hubmap-vu" "$out/replay" \
    --card "$models/glomseg-unet.json" >&2
  replay=("$out/replay/manifest.json")
fi
if [[ -z "${SKIP_BEFORE:-}" ]]; then
  echo "== C003 before" >&2
  OTHER_LABS_TILES="$c003" bash training/score_validation.sh --other-labs "$models" "$out/c003-before" >&2
fi

echo "== adapting via $via (threads ${THREADS:-2}, at most ${MAX_MINUTES:-12} min of training)" >&2
rm -rf "$out/model" "$out/product"
cat /proc/loadavg >"$out/load-before.txt"
if [[ "$via" == direct ]]; then
  /usr/bin/python3 training/adapt_regions.py "$set_dir" "$out/regions" --patients C001,C002,C004 \
    --card "$models/glomseg-unet.json" >&2
  # shellcheck disable=SC2086 # ADAPT_OPTS is a list of options
  /usr/bin/time -v -o "$out/adapt-time.txt" /usr/bin/python3 training/adapt.py --card "$models/glomseg-unet.json" \
    --manifest "$out/regions/manifest.json" --out "$out/model" --threads "${THREADS:-2}" \
    --max-minutes "${MAX_MINUTES:-12}" ${MAX_STEPS:+--max-steps "$MAX_STEPS"} ${replay:+--replay "${replay[0]}"} ${ADAPT_OPTS:-} \
    >"$out/adapt-progress.jsonl" 2>"$out/adapt-stderr.txt"
  cp "$out/model/glomseg-unet.json" "$out/adapted-card.json"
  adapted="$out/model"
else
  product="$out/product"
  mkdir -p "$product/slides" "$product/corrections"
  # The lab's slides: every view of the four patients; its corrections: the GeoJSON of C001, C002 and C004's views.
  while IFS=, read -r id case _; do
    cp "$set_dir/$id.png" "$product/slides/$id.png" # copied: the server serves no link out of its folder
    if [[ "$case" != C003 ]]; then ln -s "$set_dir/$id.geojson" "$product/corrections/$id.geojson"; fi
  done < <(tail -n +2 "$set_dir/tiles.csv")
  cp -r "$models" "$product/models" # the registry keeps the new version beside its parent
  npm run -s glomseg -- serve --slides "$product/slides" --models "$product/models" --data-dir "$product/data" \
    --host 127.0.0.1 --port 0 --no-http --device cpu --adapt open --adapt-threads "${THREADS:-2}" \
    --adapt-max-minutes "${MAX_MINUTES:-12}" ${replay:+--adapt-replay "${replay[0]}"} 2>"$product/serve.log" &
  server=$!
  trap 'kill "$server" 2>/dev/null || true' EXIT
  for _ in $(seq 600); do
    grep -q "gRPC listening on" "$product/serve.log" && break
    kill -0 "$server" 2>/dev/null || { cat "$product/serve.log" >&2; exit 1; }
    sleep 0.2
  done
  address="$(grep -o "gRPC listening on [^ ]*" "$product/serve.log" | head -1 | awk '{ print $4 }')"
  npm run -s glomseg -- annotations import "$product/corrections" --server "$address" >&2
  mapfile -t slide_ids < <(cd "$product/corrections" && ls | sed 's/\.geojson$/.png/')
  /usr/bin/time -v -o "$out/adapt-time.txt" npm run -s glomseg -- adapt --server "$address" \
    --slides "${slide_ids[@]}" --mpp 0.515 --minutes "${MAX_MINUTES:-12}" ${MAX_STEPS:+--steps "$MAX_STEPS"} \
    --make-default --progress json >"$out/adapt-progress.jsonl"
  kill "$server"
  wait "$server" || true
  trap - EXIT
  adapted_id="$(tail -1 "$out/adapt-progress.jsonl" | node -e 'process.stdin.on("data", (d) => console.log(JSON.parse(d).model))')"
  cp "$product/models/versions/$adapted_id/card.json" "$out/adapted-card.json"
  adapted="$product/models"
fi
cat /proc/loadavg >"$out/load-after.txt"

echo "== C003 after" >&2
OTHER_LABS_TILES="$c003" bash training/score_validation.sh --other-labs "$adapted" "$out/c003-after" >&2

if [[ -z "${SKIP_EVAL:-}" ]]; then
  echo "== eval region after" >&2
  npm run -s glomseg -- score "$eval_dir/kidney-region.tif" --annotations "$eval_dir/kidney-region.geojson" \
    --models "$adapted" --device cpu --out "$out/eval-after" >&2
fi
if [[ -n "${EVAL_BEFORE:-}" ]]; then
  npm run -s glomseg -- score "$eval_dir/kidney-region.tif" --annotations "$eval_dir/kidney-region.geojson" \
    --models "$models" --device cpu --out "$out/eval-before" >&2
fi

VIA="$via" node training/adapt_measure.mjs "$out" "$models" | tee "$out/measure.json"
