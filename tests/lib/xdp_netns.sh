# Network namespaces for XDP integration tests (source this file; needs root).
#
#   server namespace  xs0 198.18.0.1/24 fd00:198:18::1/64
#        | veth
#   client namespace  xc0 198.18.0.2/24 fd00:198:18::2/64
#                     + one /32 (or /128) per client source address, routed
#                       back from the server via 198.18.0.2
#
# Run commands inside with xdp_netns_exec NS CMD...: it uses nsenter, which
# keeps the bpffs mount visible (`ip netns exec` remounts /sys and hides it).
# Call xdp_netns_destroy from the test's EXIT trap.

XDP_NETNS_SERVER4=198.18.0.1
XDP_NETNS_CLIENT4=198.18.0.2
XDP_NETNS_SERVER6=fd00:198:18::1
XDP_NETNS_CLIENT6=fd00:198:18::2
XDP_NETNS_CREATED=()

# Exit 77 (skip) without root, unless CI=true, where a skip is a failure.
xdp_netns_require_root() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "SKIP: needs root for network namespaces and XDP"
		[ "${CI:-}" = true ] && exit 1
		exit 77
	fi
}

xdp_netns_exec() {
	local ns="$1"
	shift
	nsenter --net="/run/netns/$ns" "$@"
}

# xdp_netns_create SERVER_NS CLIENT_NS
xdp_netns_create() {
	local server="$1" client="$2"
	ip netns add "$server"
	XDP_NETNS_CREATED+=("$server")
	ip netns add "$client"
	XDP_NETNS_CREATED+=("$client")
	ip -n "$server" link add xs0 type veth peer name xc0 netns "$client"
	ip -n "$server" link set lo up
	ip -n "$client" link set lo up
	ip -n "$server" addr add "$XDP_NETNS_SERVER4/24" dev xs0
	ip -n "$client" addr add "$XDP_NETNS_CLIENT4/24" dev xc0
	ip -n "$server" -6 addr add "$XDP_NETNS_SERVER6/64" dev xs0 nodad
	ip -n "$client" -6 addr add "$XDP_NETNS_CLIENT6/64" dev xc0 nodad
	ip -n "$server" link set xs0 up
	ip -n "$client" link set xc0 up
}

# xdp_netns_add_source SERVER_NS CLIENT_NS ADDR: the client can use ADDR as a
# source (curl --interface ADDR, ping -I ADDR); the server routes it back.
xdp_netns_add_source() {
	local server="$1" client="$2" addr="$3"
	if [[ "$addr" == *:* ]]; then
		ip -n "$client" -6 addr add "$addr/128" dev xc0 nodad
		ip -n "$server" -6 route add "$addr/128" via "$XDP_NETNS_CLIENT6" dev xs0
	else
		ip -n "$client" addr add "$addr/32" dev xc0
		ip -n "$server" route add "$addr/32" via "$XDP_NETNS_CLIENT4" dev xs0
	fi
}

xdp_netns_destroy() {
	local ns
	for ns in "${XDP_NETNS_CREATED[@]}"; do
		ip netns del "$ns" 2>/dev/null || true
	done
	XDP_NETNS_CREATED=()
}

# Prints `cloud address` lines: one IPv4 host address inside a real prefix of
# each provider file in DATA_DIR, and one from no provider (TEST-NET-2).
xdp_netns_sample_sources() {
	python3 - "$1" <<'PY'
import ipaddress, json, sys, os
d = sys.argv[1]
def first_host(prefixes):
    for p in prefixes:
        net = ipaddress.ip_network(p, strict=False)
        if net.version == 4 and net.prefixlen <= 30:
            return str(net.network_address + 1)
    raise SystemExit("no usable IPv4 prefix")
aws = json.load(open(os.path.join(d, "aws-ip-ranges.json")))
gcp = json.load(open(os.path.join(d, "gcp-cloud.json")))
azure = json.load(open(os.path.join(d, "azure-service-tags.json")))
print("aws", first_host(p["ip_prefix"] for p in aws["prefixes"]))
print("gcp", first_host(p["ipv4Prefix"] for p in gcp["prefixes"] if "ipv4Prefix" in p))
print("azure", first_host(a for v in azure["values"] for a in v["properties"]["addressPrefixes"]))
print("none", "198.51.100.77")
PY
}
