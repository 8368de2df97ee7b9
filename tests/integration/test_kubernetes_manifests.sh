#!/usr/bin/env bash
# The Kubernetes manifests in deploy/kubernetes/ (the load-balanced Deployment
# in userspace mode, the XDP DaemonSet), checked without a cluster: there is
# no API server here, so `kubectl --dry-run=client` cannot run. The structure
# and the wiring between objects are checked by tests/lib/check_k8s_manifests.py
# against the built binary's --help; the mirror rules and operator ranges in
# the ConfigMaps are then loaded by the real archeio.
source "$(dirname "$0")/../lib/common.sh"
# Debian's python3 with python3-yaml (scripts/install-deps.sh), whatever python3 is first on PATH.
require_cmd /usr/bin/python3
/usr/bin/python3 -c 'import yaml' 2>/dev/null || { fail "python3-yaml is not installed (scripts/install-deps.sh)"; finish; }
[ -x "$ARCHEIO" ] || { fail "$ARCHEIO not built"; finish; }

"$ARCHEIO" --help >"$TMP/archeio-help.txt" 2>&1
bash "$ROOT/scripts/fetch-ranges.sh" >"$TMP/fetch-usage.txt" 2>&1
mkdir -p "$TMP/out"
log "structure"
if /usr/bin/python3 "$ROOT/tests/lib/check_k8s_manifests.py" "$ROOT/deploy/kubernetes" \
	"$TMP/archeio-help.txt" "$TMP/fetch-usage.txt" "$TMP/out" >"$TMP/check.log" 2>&1; then
	pass
else
	fail "manifest checks"
fi
sed 's/^/    /' "$TMP/check.log"

log "the ConfigMaps' files load in archeio"
mkdir -p "$TMP/empty"
for form in loadbalancer xdp; do
	mirrors="$TMP/out/$form.mirrors"
	ranges="$TMP/out/$form.operator-ranges.txt"
	if [ -s "$mirrors" ] && [ -s "$ranges" ]; then
		out=$("$ARCHEIO" lookup --ranges "$TMP/empty" --ranges "$ranges" --mirrors "$mirrors" 0.0.0.0 2>&1)
		check_eq "$form: archeio loads the mirror rules and operator ranges" "$?:$out" "0:0.0.0.0	-	-"
	else
		fail "$form: no mirrors or operator-ranges.txt key in its ConfigMap"
	fi
done
finish
