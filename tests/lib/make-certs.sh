# Test certificates with the openssl command: sourced after common.sh.
#
#   make_ca DIR                      -> DIR/ca.crt, DIR/ca.key
#   make_cert DIR NAME SAN [DAYS]    -> DIR/NAME.crt (leaf + CA: the chain as
#                                       an operator installs it), DIR/NAME.key
#                                       SAN like "DNS:registry.test,IP:198.18.0.1"
# EC P-256 keys; the CA signs with SHA-256. Nothing here touches the system
# trust store: clients are pointed at DIR/ca.crt explicitly.

make_ca() {
	local dir=$1
	mkdir -p "$dir"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
		-subj "/CN=archeio test CA $$" -keyout "$dir/ca.key" -out "$dir/ca.crt" \
		-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
		2>"$dir/openssl.log" || { cat "$dir/openssl.log"; return 1; }
}

make_cert() {
	local dir=$1 name=$2 san=$3 days=${4:-30} cn
	cn=$(echo "$san" | sed -E 's/^(DNS|IP):([^,]*).*/\2/')
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$cn" \
		-keyout "$dir/$name.key" -out "$dir/$name.csr" 2>>"$dir/openssl.log" || { cat "$dir/openssl.log"; return 1; }
	printf 'subjectAltName=%s\nbasicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\n' "$san" >"$dir/$name.ext"
	openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial \
		-days "$days" -sha256 -extfile "$dir/$name.ext" -out "$dir/$name.leaf.crt" 2>>"$dir/openssl.log" ||
		{ cat "$dir/openssl.log"; return 1; }
	cat "$dir/$name.leaf.crt" "$dir/ca.crt" >"$dir/$name.crt"
}
