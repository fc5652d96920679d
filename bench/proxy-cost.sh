#!/usr/bin/env bash
# CPU time the proxy process spends per connection (user and system, from
# /proc/PID/stat), for one or more booster builds side by side, alternating
# runs so that other load on the machine hits them alike. Unlike conn/s, this
# hardly depends on what else the machine is doing.
#   bash bench/proxy-cost.sh [BOOSTER_DIR ...]   (default: this checkout; needs nginx)
#   ROUNDS=3 SECONDS_RATE=3 CONCURRENCY=32 MICROSOCKS=1 DANTE=1 FLOOR=1 (bench/floor-socks.js: bare Node)
# Each BOOSTER_DIR is a checkout with dist/ built (copy one aside for a "before").
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
SECONDS_RATE=${SECONDS_RATE:-3}
CONCURRENCY=${CONCURRENCY:-32}
dirs=("$@")
[ ${#dirs[@]} -gt 0 ] || dirs=("$PWD")

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
# shellcheck source=lib/servers.sh
. bench/lib/servers.sh
start_nginx 18180

names=() ports=() procs=()
port=12180
for d in "${dirs[@]}"; do
  (cd "$d" && exec node bin/run start --pport $port --bport $((port + 1000)) --bind 127.0.0.1 --data-dir "$work/data-$port" 2>"$work/booster-$port.log") & pids+=($!)
  names+=("booster:$(basename "$d")") ports+=($port) procs+=($!)
  port=$((port + 1))
done
if [ "${FLOOR:-0}" = 1 ]; then node bench/floor-socks.js $port & pids+=($!); names+=(node-floor) ports+=($port) procs+=($!); port=$((port + 1)); fi
if [ "${MICROSOCKS:-0}" = 1 ]; then microsocks -i 127.0.0.1 -p $port >/dev/null 2>&1 & pids+=($!); names+=(microsocks) ports+=($port) procs+=($!); port=$((port + 1)); fi
if [ "${DANTE:-0}" = 1 ]; then
  start_dante $port; names+=(dante) ports+=($port) procs+=(dante); port=$((port + 1))
fi
for p in 18180 "${ports[@]}"; do
  for _ in $(seq 150); do (echo > /dev/tcp/127.0.0.1/$p) 2>/dev/null && break; sleep 0.1; done
done

# CPU ticks (user, system) of a process and its children/threads; Dante forks, so sum its processes.
ticks() {
  if [ "$1" = dante ]; then
    local u=0 s=0
    for p in $(pgrep -f "danted -f $work/danted.conf"); do read -r a b < <(awk '{print $14, $15}' "/proc/$p/stat" 2>/dev/null || echo "0 0"); u=$((u + a)); s=$((s + b)); done
    echo "$u $s"
  else
    awk '{print $14, $15}' "/proc/$1/stat"
  fi
}
hz=$(getconf CLK_TCK)
nginx_worker=$(pgrep -P "$(cat "$work/nginx.pid")" | head -1)
# Warm up every proxy (JIT) before measuring.
for i in "${!names[@]}"; do node bench/connrate.js --target 127.0.0.1:18180 --proxy "127.0.0.1:${ports[$i]}" --concurrency "$CONCURRENCY" --seconds 1 >/dev/null; done
printf '| round | proxy | conn/s c=%s | user µs/conn | sys µs/conn | total µs/conn | load generator µs/conn | nginx µs/conn | machine busy %% (steal %%) |\n| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n' "$CONCURRENCY"
for r in $(seq "$ROUNDS"); do
  for i in "${!names[@]}"; do
    read -r u0 s0 < <(ticks "${procs[$i]}")
    read -r nu0 ns0 < <(ticks "$nginx_worker")
    m0=$(head -1 /proc/stat)
    out=$(node bench/connrate.js --target 127.0.0.1:18180 --proxy "127.0.0.1:${ports[$i]}" --concurrency "$CONCURRENCY" --seconds "$SECONDS_RATE")
    read -r u1 s1 < <(ticks "${procs[$i]}")
    read -r nu1 ns1 < <(ticks "$nginx_worker")
    m1=$(head -1 /proc/stat)
    python3 - "$r" "${names[$i]}" "$out" "$u0" "$s0" "$u1" "$s1" "$hz" "$((nu1 + ns1 - nu0 - ns0))" "$m0" "$m1" <<'PY'
import json, sys
r, name, out = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
u0, s0, u1, s1, hz, ng = map(int, sys.argv[4:10])
m0, m1 = ([int(x) for x in m.split()[1:9]] for m in sys.argv[10:12])
d = [b - a for a, b in zip(m0, m1)]  # user nice system idle iowait irq softirq steal
busy = 100 * (sum(d) - d[3] - d[4]) / max(1, sum(d))
steal = 100 * d[7] / max(1, sum(d))
n = max(1, out['connections'])
us = lambda t: t * 1e6 / hz / n
gen = (out['cpuUserMs'] + out['cpuSystemMs']) * 1000 / n
print(f"| {r} | {name} | {out['perSecond']:.0f} | {us(u1-u0):.0f} | {us(s1-s0):.0f} | {us(u1-u0+s1-s0):.0f} | {gen:.0f} | {us(ng):.0f} | {busy:.0f} ({steal:.0f}) |")
PY
  done
done
