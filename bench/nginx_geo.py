#!/usr/bin/env python3
"""Writes the nginx configuration an operator would write instead of archeio:
a `geo` block (longest-prefix match, like archeio) from the provider ranges,
a `map` from region to mirror base, and `return 307` rules, with `pcre_jit on`
as an operator would set it. No mirror HEAD checks: nginx cannot make them
without a Lua/njs module. The locations use named captures: the map's regex
keys (`~^gcp:`) run when `$mirror` is read and overwrite numbered captures
($1, $2), which made nginx answer GCP blobs with `.../images//blobs/`.

Usage: nginx_geo.py DATA_DIR MIRRORS_FILE UPSTREAM PORT PREFIX > nginx.conf
"""
import json
import sys

data, mirrors_file, upstream, port, prefix = sys.argv[1:]
rows = []
aws = json.load(open(f"{data}/aws-ip-ranges.json"))
rows += [(p["ip_prefix"], f"aws:{p['region']}") for p in aws["prefixes"]]
rows += [(p["ipv6_prefix"], f"aws:{p['region']}") for p in aws["ipv6_prefixes"]]
gcp = json.load(open(f"{data}/gcp-cloud.json"))
rows += [(p.get("ipv4Prefix") or p.get("ipv6Prefix"), f"gcp:{p['scope']}") for p in gcp["prefixes"]]
az = json.load(open(f"{data}/azure-service-tags.json"))
for v in az["values"]:
    if v["name"].startswith("AzureCloud."):
        region = v["properties"].get("region") or v["name"].split(".", 1)[1]
        rows += [(n, f"azure:{region}") for n in v["properties"]["addressPrefixes"]]

rules = {}
for line in open(mirrors_file):
    line = line.split("#", 1)[0].split()
    if len(line) == 2:
        rules[line[0]] = line[1]
default = rules.get("*", "upstream")

# Identical prefixes: the last one wins, as in archeio (nginx would warn and keep the first).
import ipaddress
last = {}
for net, region in rows:
    last[str(ipaddress.ip_network(net, strict=False))] = region
geo = "\n".join(f"\t\t{net} {region};" for net, region in last.items())
mapping = []
for key, base in rules.items():
    if key == "*":
        continue
    target = "upstream" if base == "upstream" else base
    if ":" in key:
        mapping.append(f'\t\t"{key}" {target};')
    else:
        mapping.append(f'\t\t"~^{key}:" {target};')
mapping = "\n".join(mapping)
print(f"""daemon off;
worker_processes 1;
pcre_jit on;
user root;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log;
events {{ worker_connections 4096; }}
http {{
	access_log off;
	keepalive_requests 1000000;
	client_body_temp_path {prefix}/tmp;
	proxy_temp_path {prefix}/tmp;
	fastcgi_temp_path {prefix}/tmp;
	uwsgi_temp_path {prefix}/tmp;
	scgi_temp_path {prefix}/tmp;
	set_real_ip_from 127.0.0.1;
	real_ip_header X-Forwarded-For;
	geo $region {{
		default none;
{geo}
	}}
	map $region $mirror {{
		default {default};
{mapping}
	}}
	server {{
		listen 127.0.0.1:{port};
		location = /v2/ {{ add_header Docker-Distribution-Api-Version registry/2.0; return 200 "{{}}"; }}
		location ~ "^/v2/(?<image>.+)/blobs/(?<digest>sha256:[a-f0-9]{{64}})$" {{
			if ($mirror = upstream) {{ return 307 {upstream}/v2/k8s-artifacts-prod/images/$image/blobs/$digest; }}
			return 307 $mirror/containers/images/$digest;
		}}
		location ~ "^/v2/(?<rest>.+)$" {{ return 307 {upstream}/v2/k8s-artifacts-prod/images/$rest$is_args$args; }}
	}}
}}""")
