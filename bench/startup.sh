#!/usr/bin/env bash
# Start-up to the first answered request with all three provider range files:
# archeio vs nginx with bench/nginx_geo.py's configuration (the same ranges in
# a geo block), each on CPU 0, alternating rounds, medians. Loopback only.
# Usage: bench/startup.sh [ROUNDS]   (default 7)
#   BASELINE=path/to/archeio adds another build (e.g. main's) to the same
#   rounds, as "before".
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-7}
DATA=../shared/data
make -s build/archeio
BASELINE=${BASELINE:-}
TMP=$(mktemp -d /tmp/archeio-startup.XXXXXX)
chmod 755 "$TMP"
trap 'rm -rf "$TMP"' EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
APORT=$(port); NPORT=$(port); UPSTREAM="http://127.0.0.1:$(port)"
mkdir -p "$TMP/ngx/tmp"
sed -E "s#https://([^[:space:]]+)#http://127.0.0.1:1/\1#" "$DATA/registry-k8s-io.mirrors" >"$TMP/mirrors"
python3 bench/nginx_geo.py "$DATA" "$TMP/mirrors" "$UPSTREAM" "$NPORT" "$TMP/ngx" >"$TMP/ngx/nginx.conf"
serve() {
	python3 bench/startup.py "$APORT" taskset -c 0 "$1" serve \
		--listen "127.0.0.1:$APORT" --workers 1 --log-level warn --ranges "$DATA/aws-ip-ranges.json" \
		--ranges "$DATA/gcp-cloud.json" --ranges "$DATA/azure-service-tags.json" \
		--mirrors "$TMP/mirrors" --upstream "$UPSTREAM"
}
for _ in $(seq 1 "$ROUNDS"); do
	echo "archeio $(serve build/archeio)"
	[ -z "$BASELINE" ] || echo "before $(serve "$BASELINE")"
	echo "nginx $(python3 bench/startup.py "$NPORT" taskset -c 0 nginx -c "$TMP/ngx/nginx.conf" -p "$TMP/ngx")"
done | python3 -c '
import statistics, sys
rows = [l.split() for l in sys.stdin]
med = {}
for name in ("archeio", "before", "nginx"):
    v = [float(r[1]) for r in rows if r[0] == name]
    if not v:
        continue
    med[name] = statistics.median(v)
    rounds = " ".join("%.0f" % x for x in v)
    print("%-8s start-up to first answer: median %6.1f ms  (rounds: %s)" % (name, med[name], rounds))
print("ratio archeio/nginx: %.2fx" % (med["archeio"] / med["nginx"]))
if "before" in med:
    print("ratio before/nginx: %.2fx, archeio/before: %.2fx" % (med["before"] / med["nginx"], med["archeio"] / med["before"]))
'
