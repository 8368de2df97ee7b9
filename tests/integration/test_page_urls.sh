#!/usr/bin/env bash
# Rule 2 through the binary: `/` and `/privacy*` answer the configured info
# and privacy URLs byte for byte (a trailing slash or a query is kept), from
# flags and from INFO_URL/PRIVACY_URL alike, and the default passed explicitly
# answers what the default answers. Nothing is contacted: every URL is local.
source "$(dirname "$0")/../lib/common.sh"
require_cmd curl

LOCAL="http://127.0.0.1:$(free_port)"

# answers ENV... -- FLAGS...: starts archeio with that environment and those
# flags, prints "<Location of /> <Location of /privacy/x?y=1>", stops it.
answers() {
	local env=() port pid log
	while [ "$1" != -- ]; do env+=("$1"); shift; done
	shift
	port=$(free_port)
	log="$TMP/server-$port.log" # one per start: never the last server's lines
	env "${env[@]}" "$ARCHEIO" serve --listen "127.0.0.1:$port" --workers 1 --upstream "$LOCAL" \
		--default-mirror "$LOCAL" "$@" >"$log" 2>&1 &
	pid=$!
	if ! wait_for_log "$log" "listening on" 20; then
		cat "$log"
		kill "$pid"
		return 1
	fi
	echo "$(status_location "http://127.0.0.1:$port/") $(status_location "http://127.0.0.1:$port/privacy/x?y=1")"
	kill "$pid"
	wait "$pid" 2>/dev/null
}

log "flags"
check_eq "--info-url/--privacy-url with a trailing slash" \
	"$(answers -- --info-url "$LOCAL/" --privacy-url "$LOCAL/privacy/")" \
	"307 $LOCAL/ 307 $LOCAL/privacy/"
check_eq "--info-url/--privacy-url without a trailing slash" \
	"$(answers -- --info-url "$LOCAL/info" --privacy-url "$LOCAL/privacy")" \
	"307 $LOCAL/info 307 $LOCAL/privacy"
check_eq "a query is kept too" \
	"$(answers -- --info-url "$LOCAL/about/?lang=en" --privacy-url "$LOCAL/p/?a=1&b=2")" \
	"307 $LOCAL/about/?lang=en 307 $LOCAL/p/?a=1&b=2"

log "environment"
check_eq "INFO_URL/PRIVACY_URL with a trailing slash" \
	"$(answers INFO_URL="$LOCAL/" PRIVACY_URL="$LOCAL/privacy/" --)" \
	"307 $LOCAL/ 307 $LOCAL/privacy/"
check_eq "INFO_URL/PRIVACY_URL without a trailing slash" \
	"$(answers INFO_URL="$LOCAL/info" PRIVACY_URL="$LOCAL/privacy" --)" \
	"307 $LOCAL/info 307 $LOCAL/privacy"
check_eq "a flag wins over the environment, byte for byte" \
	"$(answers INFO_URL="$LOCAL/env" -- --info-url "$LOCAL/flag/")" \
	"307 $LOCAL/flag/ 307 https://www.linuxfoundation.org/privacy-policy/"

log "defaults"
defaults=$(answers --)
check_eq "defaults" "$defaults" \
	"307 https://github.com/kubernetes/registry.k8s.io 307 https://www.linuxfoundation.org/privacy-policy/"
check_eq "the defaults passed explicitly answer the same" \
	"$(answers -- --info-url https://github.com/kubernetes/registry.k8s.io \
		--privacy-url https://www.linuxfoundation.org/privacy-policy/)" "$defaults"

finish
