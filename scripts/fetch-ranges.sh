#!/usr/bin/env bash
# Downloads the current AWS, GCP and Azure IP ranges into DIR, checks that
# archeio parses them, replaces the files in DIR (each by an atomic rename) and
# tells a running server to reload (SIGHUP) when given its pid.
#
#   scripts/fetch-ranges.sh DIR [--pid-file FILE | --pid PID]
#
# --pid-file names the file `archeio serve --pid-file FILE` writes; the pid in
# it must be a running archeio (a stale file whose pid now belongs to another
# program is refused rather than signalled).
#
# Any failure (no network, a bad download, archeio rejecting a file) prints one
# message and leaves DIR as it was. Environment overrides (used by the tests):
#   ARCHEIO_AWS_RANGES_URL    AWS ip-ranges.json
#   ARCHEIO_GCP_RANGES_URL    GCP cloud.json
#   ARCHEIO_AZURE_RANGES_URL  Azure ServiceTags_Public_*.json (skips the page lookup)
#   ARCHEIO_AZURE_PAGE_URL    page linking the dated Azure file
#   ARCHEIO_BIN               archeio binary used for the check (default: the
#                             archeio installed beside this script, else build/archeio)
#   ARCHEIO_FETCH_TIMEOUT     seconds per download (default 120)
set -euo pipefail

prog=fetch-ranges
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# Installed (`make install`) this script is archeio-fetch-ranges beside archeio;
# in the repository it is scripts/fetch-ranges.sh and archeio is in build/.
default_archeio="$(dirname "$here")/build/archeio"
[ -x "$here/archeio" ] && default_archeio="$here/archeio"

aws_url="${ARCHEIO_AWS_RANGES_URL:-https://ip-ranges.amazonaws.com/ip-ranges.json}"
gcp_url="${ARCHEIO_GCP_RANGES_URL:-https://www.gstatic.com/ipranges/cloud.json}"
azure_url="${ARCHEIO_AZURE_RANGES_URL:-}"
azure_page="${ARCHEIO_AZURE_PAGE_URL:-https://www.microsoft.com/en-us/download/details.aspx?id=56519}"
archeio="${ARCHEIO_BIN:-$default_archeio}"
timeout="${ARCHEIO_FETCH_TIMEOUT:-120}"

# File names in DIR; the loader reads a directory in name order.
aws_file=aws-ip-ranges.json
gcp_file=gcp-cloud.json
azure_file=azure-service-tags.json

die() {
	echo "$prog: $*; nothing changed" >&2
	exit 1
}

usage() {
	echo "usage: $prog DIR [--pid-file FILE | --pid PID]" >&2
	exit 2
}

dir=""
pid=""
pid_file=""
while [ $# -gt 0 ]; do
	case "$1" in
	--pid) [ $# -ge 2 ] || usage; pid="$2"; shift 2 ;;
	--pid-file) [ $# -ge 2 ] || usage; pid_file="$2"; shift 2 ;;
	-h | --help) usage ;;
	-*) echo "$prog: unknown option $1" >&2; usage ;;
	*) [ -z "$dir" ] || usage; dir="$1"; shift ;;
	esac
done
[ -n "$dir" ] || usage
[ -z "$pid" ] || [ -z "$pid_file" ] || { echo "$prog: give --pid or --pid-file, not both" >&2; usage; }

[ -d "$dir" ] || die "$dir is not a directory"
[ -w "$dir" ] || die "$dir is not writable"
# is_archeio PID: its executable (comm) or argv[0] is archeio.
is_archeio() {
	local comm argv0
	comm="$(cat "/proc/$1/comm" 2>/dev/null || true)"
	argv0="$({ tr '\0' '\n' <"/proc/$1/cmdline"; } 2>/dev/null | head -n 1 || true)"
	[ "$comm" = archeio ] || [ "${argv0##*/}" = archeio ]
}

if [ -n "$pid_file" ]; then
	[ -r "$pid_file" ] || die "cannot read pid file $pid_file (is archeio serve running with --pid-file $pid_file?)"
	pid="$(tr -d ' \t\r\n' <"$pid_file")"
fi
if [ -n "$pid" ]; then
	[[ "$pid" =~ ^[1-9][0-9]*$ ]] || die "bad pid '$pid'"
	kill -0 "$pid" 2>/dev/null || die "no process $pid to signal"
	if [ -n "$pid_file" ] && ! is_archeio "$pid"; then
		die "pid file $pid_file names pid $pid, which is not archeio (a stale pid file?)"
	fi
fi
[ -x "$archeio" ] || die "archeio binary $archeio not found (run make, or set ARCHEIO_BIN)"
command -v curl >/dev/null || die "curl is not installed"

# Downloads go to a private temporary directory: DIR is not touched at all
# until everything has been downloaded and checked.
work="$(mktemp -d "${TMPDIR:-/tmp}/archeio-fetch-ranges.XXXXXX")" || die "cannot create a temporary directory"
stage=""
trap 'rm -rf "$work" ${stage:+"$stage"}' EXIT
trap 'exit 130' INT TERM
mkdir "$work/new"

# download WHAT URL FILE: one line of error naming what failed, curl's reason included.
# curl reports every attempt (--retry 2), mostly with the same words: each reason once.
download() {
	local what="$1" url="$2" out="$3" err
	if ! err="$(curl --fail --silent --show-error --location --connect-timeout 20 \
		--max-time "$timeout" --retry 2 --output "$out" "$url" 2>&1)"; then
		err="$(printf '%s\n' "$err" | awk 'NF && !seen[$0]++' | paste -s -d ' ')"
		die "cannot download $what from $url (${err:-curl failed}); check network access"
	fi
	[ -s "$out" ] || die "download of $what from $url is empty"
}

download "AWS ranges" "$aws_url" "$work/new/$aws_file"
download "GCP ranges" "$gcp_url" "$work/new/$gcp_file"
if [ -z "$azure_url" ]; then
	# Azure publishes a new dated file weekly; the download page links it.
	download "the Azure service tags download page" "$azure_page" "$work/azure-page.html"
	azure_url="$(grep -oE "https?://[^\"' <>]*ServiceTags_Public_[0-9]+\.json" \
		"$work/azure-page.html" | head -n 1 || true)"
	[ -n "$azure_url" ] || die "no ServiceTags_Public_*.json link found on $azure_page"
fi
download "Azure service tags" "$azure_url" "$work/new/$azure_file"

if ! check="$("$archeio" lookup --ranges "$work/new" 0.0.0.0 2>&1 >/dev/null)"; then
	die "archeio rejects the downloaded ranges: $(printf '%s' "$check" | tr '\n' ' ')"
fi

# Staged inside DIR so each final rename stays on one file system and is
# atomic; the '.' prefix makes the ranges loader skip the staging directory,
# so a reload at any moment sees whole files, old or new.
stage="$(mktemp -d "$dir/.fetch-ranges.XXXXXX")" || die "cannot create a staging directory in $dir"
for f in "$aws_file" "$gcp_file" "$azure_file"; do
	cp "$work/new/$f" "$stage/$f" || die "cannot copy $f into $dir"
	chmod 0644 "$stage/$f"
done
for f in "$aws_file" "$gcp_file" "$azure_file"; do
	mv -f "$stage/$f" "$dir/$f"
done
rmdir "$stage"
stage=""
echo "$prog: updated $aws_file, $gcp_file and $azure_file in $dir"

if [ -n "$pid" ]; then
	kill -HUP "$pid" 2>/dev/null || {
		echo "$prog: ranges updated, but sending SIGHUP to $pid failed" >&2
		exit 1
	}
	echo "$prog: sent SIGHUP to $pid"
fi
