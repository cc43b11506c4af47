#!/usr/bin/env bash
# Would a second core help? An upper bound: two independent servers (an ideally partitioned two-process cluster,
# no forwarding between them), each loaded by its own SIPp at RATE/s for 20 s with bench/scenarios/subscribe.xml.
#   npm run build && bash bench/two-servers.sh RATE [OUT_DIR]
# Prints, per server, SIPp's successful and failed calls and retransmissions, and both servers' CPU.
# Ports 15971/15972 (SIP), 15981/15982 (API), 15991/15992 (SIPp) on 127.0.0.1 must be free.
set -u
rate=${1:?usage: two-servers.sh RATE [OUT_DIR]}
out=${2:-$(mktemp -d /tmp/piston-two-XXXXXX)}
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"
seq 1000 1999 | sed '1i SEQUENTIAL' > "$out/ext.csv"
servers=()
cleanup() { for p in "${servers[@]}"; do kill "$p" 2>/dev/null; done; }
trap cleanup EXIT
for i in 1 2; do
  mkdir -p "$out/s$i"
  (cd "$out/s$i" && PISTON_SIP_HOST=127.0.0.1 PISTON_SIP_PORT=1597$i PISTON_API_HOST=127.0.0.1 PISTON_API_PORT=1598$i \
    PISTON_DATA_DIR="$out/s$i/data" PISTON_LOG_LEVEL=warn PISTON_SUBSCRIBE_MAX_EXPIRES=3600 \
    PISTON_SUBSCRIBE_DEFAULT_EXPIRES=3600 exec node "$root/dist/src/main.js" > server.log 2>&1) &
  servers+=($!)
done
sleep 4 # both ready and warmed up
loads=()
for i in 1 2; do
  (cd "$out/s$i" && timeout 60 sipp 127.0.0.1:1597$i -sf "$root/bench/scenarios/subscribe.xml" -i 127.0.0.1 -p 1599$i \
    -t u1 -nd -aa -nostdin -buff_size 4194304 -trace_stat -stf stat.csv -fd 1 -inf "$out/ext.csv" -key wp "w$i" \
    -m $((rate * 20)) -r "$rate" -l 3000 -recv_timeout 5000 -timeout 35s > sipp.out 2>&1) &
  loads+=($!)
done
wait "${loads[@]}"
for i in 1 2; do
  python3 - "$out/s$i/stat.csv" "$i" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1]), delimiter=';'))
h, r = rows[0], rows[-1]
g = lambda n: r[h.index(n)]
print(f"server {sys.argv[2]}: ok {g('SuccessfulCall(C)')} failed {g('FailedCall(C)')} retransmissions {g('Retransmissions(C)')}")
PY
done
ticks=0
for p in "${servers[@]}"; do ticks=$((ticks + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done
echo "both servers: $((ticks * 10)) ms of CPU since start (clock ticks of 10 ms), for $((rate * 40)) subscriptions; raw output in $out"
