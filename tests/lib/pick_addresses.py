#!/usr/bin/env python3
"""Picks client addresses for integration tests from the real provider data,
with the region an independent brute-force longest-prefix match gives them.

Usage: pick_addresses.py DATA_DIR  -> shell assignments NAME=IP NAME_REGION=cloud:region
"""
import ipaddress
import json
import sys


def load(data):
    entries = []
    aws = json.load(open(f"{data}/aws-ip-ranges.json"))
    for p in aws["prefixes"]:
        entries.append((ipaddress.ip_network(p["ip_prefix"]), "aws", p["region"]))
    for p in aws["ipv6_prefixes"]:
        entries.append((ipaddress.ip_network(p["ipv6_prefix"]), "aws", p["region"]))
    gcp = json.load(open(f"{data}/gcp-cloud.json"))
    for p in gcp["prefixes"]:
        net = p.get("ipv4Prefix") or p.get("ipv6Prefix")
        entries.append((ipaddress.ip_network(net), "gcp", p["scope"]))
    az = json.load(open(f"{data}/azure-service-tags.json"))
    for v in az["values"]:
        if not v["name"].startswith("AzureCloud."):
            continue
        region = v["properties"].get("region") or v["name"].split(".", 1)[1]
        for net in v["properties"]["addressPrefixes"]:
            entries.append((ipaddress.ip_network(net), "azure", region))
    return entries


def longest(entries, addr):
    best = None
    for net, cloud, region in entries:
        if addr.version == net.version and addr in net:
            if best is None or net.prefixlen >= best[0].prefixlen:
                best = (net, cloud, region)
    return best


def pick(entries, cloud, region, version):
    for net, c, r in entries:
        if c != cloud or (region and r != region) or net.version != version:
            continue
        addr = net.network_address + 1
        hit = longest(entries, addr)
        if hit and hit[1] == cloud and hit[2] == r:
            return addr, r
    raise SystemExit(f"no address for {cloud}:{region} v{version}")


def main():
    entries = load(sys.argv[1])
    wanted = [
        ("AWS_USE1", "aws", "us-east-1", 4),
        ("AWS_EUW1", "aws", "eu-west-1", 4),
        ("AWS_V6", "aws", "us-west-2", 6),
        ("GCP", "gcp", "us-central1", 4),
        ("AZURE", "azure", "westeurope", 4),
    ]
    for name, cloud, region, version in wanted:
        addr, r = pick(entries, cloud, region, version)
        print(f"{name}={addr}")
        print(f"{name}_REGION={cloud}:{r}")
    unlisted = ipaddress.ip_address("192.0.2.10")  # TEST-NET-1: in no provider range
    assert longest(entries, unlisted) is None
    print(f"UNLISTED={unlisted}")


main()
