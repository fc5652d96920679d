#!/usr/bin/env bash
# Proxy benchmark on loopback: booster vs direct vs Dante vs microsocks.
#   bash bench/proxy.sh            (QUICK=1 for a shorter run; needs root to install packages)
#   BOOSTER_BEFORE=DIR adds a "booster-before" row: the checkout in DIR (dist/ built), for
#   before/after figures from one run.
# Measures single 1 GiB stream throughput, 64 concurrent streams, new
# connections per second at concurrency 1 and 32, and added time to first byte.
set -euo pipefail
cd "$(dirname "$0")/.."
QUICK=${QUICK:-0}
SECONDS_RATE=$([ "$QUICK" = 1 ] && echo 2 || echo 5)
RUNS=$([ "$QUICK" = 1 ] && echo 1 || echo 3)

need=()
for p in nginx dante-server microsocks curl; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
if [ ${#need[@]} -gt 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; fi
[ -f dist/src/index.js ] || npm run build >/dev/null

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

mkdir -p "$work/www"
truncate -s 1G "$work/www/big"
# shellcheck source=lib/servers.sh
. bench/lib/servers.sh
start_nginx 18080 'sendfile on; tcp_nopush on;'
start_dante 11080
microsocks -i 127.0.0.1 -p 11081 >/dev/null 2>&1 & pids+=($!)
node bin/run start --pport 11082 --bport 14884 --bind 127.0.0.1 --data-dir "$work/booster-data" 2>"$work/booster.log" & pids+=($!)
ports=(18080 11080 11081 11082)
names=(direct booster dante microsocks)
if [ -n "${BOOSTER_BEFORE:-}" ]; then
  (cd "$BOOSTER_BEFORE" && exec node bin/run start --pport 11083 --bport 14885 --bind 127.0.0.1 --data-dir "$work/before-data" 2>"$work/booster-before.log") & pids+=($!)
  ports+=(11083)
  names=(direct booster-before booster dante microsocks)
fi
for port in "${ports[@]}"; do
  for _ in $(seq 100); do (echo > /dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
done

declare -A PROXY=([direct]="" [booster]=127.0.0.1:11082 [booster-before]=127.0.0.1:11083 [dante]=127.0.0.1:11080 [microsocks]=127.0.0.1:11081)
curl_proxy() { [ -n "$1" ] && echo "--socks5-hostname $1" || true; }

single() { # best of RUNS, bytes/s
  local best=0
  for _ in $(seq "$RUNS"); do
    s=$(curl -sS -o /dev/null -w "%{speed_download}" $(curl_proxy "$1") http://127.0.0.1:18080/big 2>>"$work/curl.err" || echo 0)
    best=$(python3 -c "print(max($best, $s))")
  done
  echo "$best"
}
parallel64() { # aggregate bytes/s for 64 × 16 MiB
  local start end
  start=$(date +%s.%N)
  for i in $(seq 64); do curl -s -o /dev/null -r 0-16777215 $(curl_proxy "$1") http://127.0.0.1:18080/big & done
  wait $(jobs -p | grep -v -w $(printf -- '-e %s ' "${pids[@]}")) 2>/dev/null || true
  end=$(date +%s.%N)
  python3 -c "print(64*16*1024*1024/($end-$start))"
}
rate() { node bench/connrate.js --target 127.0.0.1:18080 ${1:+--proxy $1} --concurrency "$2" --seconds "$SECONDS_RATE"; }

mkdir -p bench/results
out="bench/results/proxy-$(date +%Y%m%d-%H%M%S).json"
echo "{" > "$out"
printf '| | single stream GB/s | 64 streams GB/s | conn/s c=1 | conn/s c=32 | TTFB p50 c=1 ms | TTFB p99 c=1 ms |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n'
first=1
for name in "${names[@]}"; do
  p=${PROXY[$name]}
  s=$(single "$p"); m=$(parallel64 "$p"); r1=$(rate "$p" 1); r32=$(rate "$p" 32)
  python3 - "$name" "$s" "$m" "$r1" "$r32" <<'PY'
import json, sys
name, s, m, r1, r32 = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), json.loads(sys.argv[4]), json.loads(sys.argv[5])
print(f"| {name} | {s/1e9:.2f} | {m/1e9:.2f} | {r1['perSecond']:.0f} | {r32['perSecond']:.0f} | {r1['p50']:.3f} | {r1['p99']:.3f} |")
PY
  [ $first = 1 ] || echo "," >> "$out"; first=0
  printf '"%s": {"single": %s, "parallel64": %s, "c1": %s, "c32": %s}' "$name" "$s" "$m" "$r1" "$r32" >> "$out"
done
echo "}" >> "$out"
cat "$work/curl.err" 2>/dev/null | sort | uniq -c | head -5 >&2 || true
echo "results: $out (2 cores: the load generator, the proxy and nginx share them)"
