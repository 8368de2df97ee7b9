#!/usr/bin/env bash
# The namespace plumbing XDP integration tests build on (tests/lib/xdp_netns.sh):
# a server and a client namespace joined by a veth pair, client source
# addresses from AWS, GCP, Azure and unlisted space that reach the server and
# are routed back, and bpffs still visible through nsenter. All namespaces
# are removed on exit, also on failure. Traffic stays inside them.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/xdp_netns.sh

xdp_netns_require_root
server="archeio-xs-$$"
client="archeio-xc-$$"
peers="$(mktemp /tmp/archeio-netns-peers.XXXXXX)"
server_pid=""
cleanup() {
	[ -z "$server_pid" ] || kill "$server_pid" 2>/dev/null || true
	xdp_netns_destroy
	rm -f "$peers"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

xdp_netns_create "$server" "$client"
mapfile -t sources < <(xdp_netns_sample_sources ../shared/data)
[ "${#sources[@]}" -eq 4 ] || fail "expected 4 sample sources, got ${#sources[@]}"
for line in "${sources[@]}"; do
	addr="${line#* }"
	xdp_netns_add_source "$server" "$client" "$addr"
done

# The server accepts one connection per source and records each peer address:
# what the server (and XDP) will see as the client.
xdp_netns_exec "$server" timeout 20 python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET6)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("::", 18080)); s.listen(8)
print("listening", flush=True)
for _ in range(int(sys.argv[1])):
    c, peer = s.accept()
    print(peer[0].removeprefix("::ffff:"), flush=True)
    c.close()
' $((${#sources[@]} + 1)) >"$peers" &
server_pid=$!
for _ in $(seq 50); do grep -q listening "$peers" && break; sleep 0.1; done
grep -q listening "$peers" || fail "test listener did not start"

connect_from() { # SOURCE DESTINATION
	xdp_netns_exec "$client" timeout 5 python3 -c '
import socket, sys
src, dst = sys.argv[1], sys.argv[2]
family = socket.AF_INET6 if ":" in dst else socket.AF_INET
c = socket.socket(family)
c.bind((src, 0)); c.connect((dst, 18080)); c.close()
' "$1" "$2"
}
for line in "${sources[@]}"; do
	cloud="${line%% *}" addr="${line#* }"
	connect_from "$addr" "$XDP_NETNS_SERVER4" || fail "$cloud source $addr cannot reach the server"
done
connect_from "$XDP_NETNS_CLIENT6" "$XDP_NETNS_SERVER6" || fail "IPv6 between the namespaces fails"
wait "$server_pid" || fail "test listener failed"
server_pid=""
for line in "${sources[@]}"; do
	grep -qx "${line#* }" "$peers" || fail "server did not see source ${line#* }"
done
grep -qx "$XDP_NETNS_CLIENT6" "$peers" || fail "server did not see $XDP_NETNS_CLIENT6"

fstype="$(xdp_netns_exec "$server" stat -f -c %T /sys/fs/bpf)"
[ "$fstype" = bpf_fs ] || fail "bpffs not visible through nsenter (got $fstype)"

xdp_netns_destroy
ip netns list | grep -q "archeio-x[sc]-$$" && fail "namespaces left behind"
echo "ok: namespaces, sources (${sources[*]}), bpffs visibility, cleanup"
