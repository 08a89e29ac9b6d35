#!/bin/bash
# Instructions per request of the bench's hello-world server, counted by valgrind's callgrind: bare or with
# the plugin, in the steady state (the counters are zeroed after `warm` requests and read after `n` more,
# on the same keep-alive connections). Instruction counts do not move with the machine's load, so a few
# hundred instructions per request can be told apart where timing cannot; they leave out the kernel's
# work and the caches, which timing has. Runs of the same build differ by up to ~1k (JIT decisions).
#
#   bench/callgrind.sh [options|bare] [warm] [n]      e.g. bench/callgrind.sh '--hooks=txn_start --sample-rate=0'
#
# About a minute per run (node under valgrind is ~50x slower). Needs valgrind (apt-get install valgrind).
set -euo pipefail
opts="${1:-bare}"; warm="${2:-4000}"; n="${3:-4000}"
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
mkfifo "$work/in"
valgrind --tool=callgrind --smc-check=all-non-file --callgrind-out-file="$work/cg" \
  node "$here/callgrind/server.mjs" "$opts" > "$work/server.out" 2> "$work/server.err" &
server=$!
for _ in $(seq 1 600); do grep -q PORT "$work/server.out" 2>/dev/null && break; sleep 0.1; done
port=$(awk '/PORT/{print $2}' "$work/server.out")
[ -n "$port" ] || { echo "the server did not start: $(cat "$work/server.err")" >&2; exit 1; }
exec 7<>"$work/in"
node "$here/callgrind/client.mjs" "$port" "$warm" "$n" 4 < "$work/in" > "$work/client.out" &
client=$!
wait_for() { for _ in $(seq 1 6000); do grep -q "$1" "$work/client.out" 2>/dev/null && return 0; sleep 0.1; done; echo "no $1 from the client" >&2; exit 1; }
wait_for WARM
callgrind_control -z "$server" > /dev/null
echo go >&7
wait_for DONE
callgrind_control -d measured "$server" > /dev/null
echo go >&7
wait "$client"; wait "$server"
total=$(grep -hE '^(summary|totals):' "$work"/cg.* | head -1 | awk '{print $2}')
echo "$opts: $((total / n)) instructions per request ($n requests after $warm, 4 keep-alive connections)"
