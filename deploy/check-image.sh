#!/usr/bin/env bash
# Checks a built image where no container engine runs it (docs/deploy.md, "Building it here with buildah"): starts
# the image's ENTRYPOINT and CMD with `buildah run --isolation chroot` (the host's network, so the image's ports
# 50051 and 8080 must be free here) and a folder of one slide as /slides, then checks that the server runs as the
# image's USER, answers the image's own HEALTHCHECK command, serves the viewer, scores a slide for
# `glomseg score --server` from this checkout, and on SIGTERM in the middle of that slide reports NOT_SERVING
# (liveness still SERVING), finishes the slide and exits 0.
#   bash deploy/check-image.sh [IMAGE]      (default localhost/glomseg:0.1.0; STORAGE_DRIVER defaults to vfs)
set -euo pipefail
image="${1:-localhost/glomseg:0.1.0}"
export STORAGE_DRIVER="${STORAGE_DRIVER:-vfs}"
repo="$(cd "$(dirname "$0")/.." && pwd)"
slide=kidney-region-quarter.tif
glomseg=(node --import tsx "$repo/server/src/cli/main.ts")

work="$(mktemp -d)"
chmod 755 "$work"
ctr="$(buildah from "$image")"
run_pid=""
cleanup() {
  [ -n "$run_pid" ] && kill -KILL "$run_pid" 2>/dev/null || true
  buildah rm "$ctr" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "check-image: FAILED: $*" >&2; [ -f "$work/server.log" ] && sed 's/^/  server: /' "$work/server.log" >&2; exit 1; }

mkdir "$work/slides"
cp "$repo/../shared/data/hubmap-vu/eval-region/$slide" "$work/slides/"
config="$(buildah inspect --type image "$image")"
# The image's settings, each argument NUL-terminated: ENTRYPOINT + CMD, the HEALTHCHECK command, USER.
field() { node -e 'const c = JSON.parse(require("fs").readFileSync(0, "utf8")).Docker.config; for (const a of [].concat(...process.argv.slice(1).map((k) => k.split(".").reduce((v, p) => v[p], c)))) process.stdout.write(`${a}\0`)' "$@" <<<"$config"; }
mapfile -d '' start < <(field Entrypoint Cmd)
mapfile -d '' healthcheck < <(field Healthcheck.Test)
healthcheck=("${healthcheck[@]:1}") # without its leading CMD
user="$(field User | tr -d '\0')"
echo "check-image: $image, user $user"
echo "check-image: start: ${start[*]}"

buildah run --isolation chroot -v "$work/slides:/slides:ro" "$ctr" -- "${start[@]}" >"$work/server.log" 2>&1 &
run_pid=$!
for _ in $(seq 1 360); do grep -q 'gRPC listening on' "$work/server.log" && break; kill -0 "$run_pid" 2>/dev/null || fail "the server exited"; sleep 0.5; done
grep -q 'gRPC listening on' "$work/server.log" || fail "the server did not start within 180 s"
# The server: the node process under buildah's chroot helper.
# grpc.health.v1.Health/Check on the gRPC port, the messages coded by hand (field 1: the service; the status).
probe() {
  /usr/bin/python3 - "$1" <<'PY' 2>&1 || true
import sys, grpc
service = sys.argv[1].encode()
request = b'\x0a' + bytes([len(service)]) + service if service else b''
with grpc.insecure_channel('127.0.0.1:50051') as channel:
    reply = channel.unary_unary('/grpc.health.v1.Health/Check')(request, timeout=5)
print({b'': 'UNKNOWN', b'\x08\x01': 'SERVING', b'\x08\x02': 'NOT_SERVING', b'\x08\x03': 'SERVICE_UNKNOWN'}.get(reply, reply.hex()))
PY
}
descendants() { local p; for p in $(ps -o pid= --ppid "$1"); do echo "$p"; descendants "$p"; done; }
server_pid=""
for p in $(descendants "$run_pid"); do [ "$(ps -o comm= -p "$p")" = node ] && server_pid="$p"; done
[ -n "$server_pid" ] || fail "no node process under buildah run"
uid="$(ps -o uid= -p "$server_pid" | tr -d ' ')"
[ "$uid" = "${user%%:*}" ] || fail "the server runs as uid $uid, not ${user%%:*}"
echo "check-image: server pid $server_pid runs as uid $uid"

out="$(buildah run --isolation chroot "$ctr" -- "${healthcheck[@]}" 2>&1)" || fail "HEALTHCHECK: $out"
[ "$out" = SERVING ] || fail "HEALTHCHECK said: $out"
echo "check-image: HEALTHCHECK (${healthcheck[*]}): $out"
# The viewer and its bundle as built into the image (a stale bundle would be rebuilt, which /app does not allow).
for page in / /plugin/glomseg-plugin.js; do
  code="$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:8080$page")"
  [ "$code" = 200 ] || fail "GET $page: $code"
done
echo "check-image: viewer page and bundle: 200"

(cd "$repo" && "${glomseg[@]}" score --server 127.0.0.1:50051 --mpp 2 --json --out "$work/out" "$slide" >"$work/score.jsonl" 2>"$work/score.err"; echo $? >"$work/score.rc") &
score_pid=$!
third() { node -e 'const l = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").filter(Boolean).map(JSON.parse).filter((e) => e.event === "progress"); const p = l.at(-1); process.exit(p && p.tilesDone * 3 >= p.tilesTotal && p.tilesDone < p.tilesTotal ? 0 : 1)' "$work/score.jsonl" 2>/dev/null; }
for _ in $(seq 1 600); do third && break; [ -f "$work/score.rc" ] && fail "the score ended before a third: $(cat "$work/score.err")"; sleep 0.1; done
third || fail "the score did not get a third through in 60 s"
echo "check-image: $(tail -1 "$work/score.jsonl")"
kill -TERM "$server_pid"
echo "check-image: SIGTERM sent to $server_pid"
for _ in $(seq 1 50); do grep -q 'draining' "$work/server.log" && break; sleep 0.1; done
# With Debian's python3-grpcio (scripts/setup.sh), not `glomseg health`: the rest of the slide takes seconds, and
# on two busy cores the CLI takes several of them to start.
ready="$(probe '')"
alive="$(probe liveness)"
echo "check-image: while draining: health '' $ready, liveness $alive"
wait "$score_pid"
[ "$(cat "$work/score.rc")" = 0 ] || fail "the score failed: $(cat "$work/score.err")"
echo "check-image: $(grep '"event":"result"' "$work/score.jsonl")"
set +e
wait "$run_pid"
rc=$?
set -e
run_pid=""
sed 's/^/  server: /' "$work/server.log" | grep -E 'SIGTERM|drain|stopped'
[ "$rc" = 0 ] || fail "the server exited $rc"
[ "$ready" = NOT_SERVING ] || fail "health '' while draining: $ready"
[ "$alive" = SERVING ] || fail "liveness while draining: $alive"
echo "check-image: OK: the server exited 0 after draining"
