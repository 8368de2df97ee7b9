# Network-namespace topology for XDP tests: sourced after common.sh.
#
#   client namespaces ──veth── router ──veth── server (XDP on its veth)
#                                    └─veth── extra hosts (mirrors, upstream)
#
# Clients carry provider addresses (AWS, GCP, Azure, unlisted) as /32s; all
# infrastructure uses 198.18.0.0/15. Nothing is routed out of the machine: the
# namespaces have no other interfaces. Everything is removed on exit.

NS_PREFIX="arch$$"
ROUTER="${NS_PREFIX}r"
SERVER_NS="${NS_PREFIX}s"
SERVER_IP=198.18.0.1
SERVER_IF=xs0
_HOST_INDEX=0

ns_exec() { local ns=$1; shift; nsenter --net="/run/netns/$ns" "$@"; }

# The router and the server, joined by SERVER_IF (server side) / xr0 (router side).
netns_setup_core() {
	ip netns add "$ROUTER" && on_exit "ip netns del $ROUTER"
	ip netns add "$SERVER_NS" && on_exit "ip netns del $SERVER_NS"
	ip link add xr0 netns "$ROUTER" type veth peer name "$SERVER_IF" netns "$SERVER_NS"
	ns_exec "$ROUTER" ip link set lo up
	ns_exec "$ROUTER" ip addr add 198.18.0.2/24 dev xr0
	ns_exec "$ROUTER" ip link set xr0 up
	ns_exec "$ROUTER" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 \
		net.ipv6.conf.all.forwarding=1
	ns_exec "$SERVER_NS" ip link set lo up
	ns_exec "$SERVER_NS" ip addr add "$SERVER_IP/24" dev "$SERVER_IF"
	ns_exec "$SERVER_NS" ip -6 addr add fd00:198:18::1/64 dev "$SERVER_IF" nodad
	ns_exec "$ROUTER" ip -6 addr add fd00:198:18::2/64 dev xr0 nodad
	ns_exec "$SERVER_NS" ip link set "$SERVER_IF" up
	ns_exec "$SERVER_NS" ip route add default via 198.18.0.2
	ns_exec "$SERVER_NS" ip -6 route add default via fd00:198:18::2
	ns_exec "$SERVER_NS" sysctl -qw net.ipv4.conf.all.rp_filter=0
}

# netns_add_host NAME ADDR [ADDR6]: a namespace "${NS_PREFIX}NAME" with ADDR/32
# (and ADDR6/128) on one veth to the router, default route through it. Not
# in a subshell: it registers its cleanup.
netns_add_host() {
	local name=$1 addr=$2 addr6=${3:-}
	local ns="${NS_PREFIX}$name"
	_HOST_INDEX=$((_HOST_INDEX + 1))
	local rif="xr$_HOST_INDEX" hif="xh$_HOST_INDEX" hop="198.18.200.$_HOST_INDEX"
	ip netns add "$ns" && on_exit "ip netns del $ns"
	ip link add "$rif" netns "$ROUTER" type veth peer name "$hif" netns "$ns"
	ns_exec "$ns" ip link set lo up
	ns_exec "$ns" ip addr add "$addr/32" dev "$hif"
	ns_exec "$ns" ip link set "$hif" up
	ns_exec "$ROUTER" ip addr add "$hop/32" dev "$rif"
	ns_exec "$ROUTER" ip link set "$rif" up
	ns_exec "$ns" ip route add "$hop/32" dev "$hif"
	ns_exec "$ns" ip route add default via "$hop" dev "$hif" src "$addr"
	ns_exec "$ROUTER" ip route add "$addr/32" dev "$rif"
	if [ -n "$addr6" ]; then
		ns_exec "$ns" ip -6 addr add "$addr6/128" dev "$hif" nodad
		ns_exec "$ROUTER" ip -6 addr add "fe80::1/64" dev "$rif" nodad 2>/dev/null || true
		ns_exec "$ns" ip -6 route add default via fe80::1 dev "$hif" src "$addr6"
		ns_exec "$ROUTER" ip -6 route add "$addr6/128" dev "$rif"
	fi
	ns_exec "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0
}
