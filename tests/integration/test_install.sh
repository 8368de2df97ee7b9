#!/usr/bin/env bash
# `make install`: exactly the files an operator needs, with their modes, under
# DESTDIR and PREFIX; the installed binaries run; the man pages render without
# a warning and document every flag `--help` lists; the units point at the
# installed binaries; `make uninstall` takes it all away again. Also the
# version outside a git checkout (the Makefile's VERSION).
source "$(dirname "$0")/../lib/common.sh"
require_cmd make install groff man

# installed DIR: "MODE PATH" of every file and link under DIR, sorted
installed() { (cd "$1" && find . \( -type f -o -type l \) -printf '%m %P\n' | sort); }

log "make install DESTDIR=... PREFIX=/usr"
DEST="$TMP/dest"
make -s -C "$ROOT" BUILD="$BUILD" install DESTDIR="$DEST" PREFIX=/usr >"$TMP/install.log" 2>&1 ||
	{ cat "$TMP/install.log"; fail "make install failed"; finish; }
check_eq "the installed files and their modes" "$(installed "$DEST")" "$(sort <<'EOF'
755 usr/sbin/archeio
755 usr/sbin/archeio-fetch-ranges
755 usr/bin/archeio-mirror
644 usr/share/man/man8/archeio.8
644 usr/share/man/man1/archeio-mirror.1
644 usr/lib/systemd/system/archeio.service
644 usr/lib/systemd/system/archeio-fetch-ranges.service
644 usr/lib/systemd/system/archeio-fetch-ranges.timer
644 usr/lib/sysusers.d/archeio.conf
EOF
)"
check_eq "nothing from ../shared (data snapshots stay out)" "$(find "$DEST" -name '*.json' -o -name '*.mirrors' | wc -l)" "0"
check_eq "no BPF object (the skeleton embeds it)" "$(find "$DEST" -name '*.o' | wc -l)" "0"

log "the installed programs run"
check_eq "archeio --version" "$("$DEST/usr/sbin/archeio" --version)" "$("$ARCHEIO" --version)"
check_eq "archeio-mirror --version" "$("$DEST/usr/bin/archeio-mirror" --version)" \
	"archeio-mirror $("$ARCHEIO" --version | cut -d' ' -f2)"
# The installed refresher finds the archeio beside it: offline it gets as far
# as the download (a missing archeio would stop it before).
mkdir -p "$TMP/ranges"
out=$(env -u ARCHEIO_BIN ARCHEIO_AWS_RANGES_URL=http://127.0.0.1:9/aws.json ARCHEIO_FETCH_TIMEOUT=5 \
	"$DEST/usr/sbin/archeio-fetch-ranges" "$TMP/ranges" 2>&1) && fail "fetch-ranges succeeded offline"
check_match "archeio-fetch-ranges uses the installed archeio" "$out" "cannot download AWS ranges"
check_eq "... and changed nothing" "$(ls -A "$TMP/ranges" | wc -l)" "0"

log "the units run what was installed"
units="$DEST/usr/lib/systemd/system"
check_eq "no placeholder left in the units" "$(grep -c '@[A-Z]*@' "$units"/* | awk -F: '{s += $2} END {print s}')" "0"
check_match "archeio.service starts /usr/sbin/archeio" "$(grep '^ExecStart=' "$units/archeio.service")" \
	"^ExecStart=/usr/sbin/archeio serve"
check_match "the refresher starts /usr/sbin/archeio-fetch-ranges" \
	"$(grep '^ExecStart=' "$units/archeio-fetch-ranges.service")" "^ExecStart=/usr/sbin/archeio-fetch-ranges "

log "man pages"
for page in usr/share/man/man8/archeio.8 usr/share/man/man1/archeio-mirror.1; do
	check_eq "groff -ww: no warning in $page" "$(groff -man -Tutf8 -ww -z "$DEST/$page" 2>&1)" ""
	check_eq "man -l: no warning in $page" "$(MANWIDTH=80 man -l "$DEST/$page" 2>&1 >/dev/null)" ""
	check_match "man -l renders $page" "$(MANWIDTH=80 man -l "$DEST/$page" 2>/dev/null | head -20)" "NAME"
done
# every_flag_in HELP_TEXT MAN_TEXT: the flags --help lists that the page does not
missing_flags() {
	local flag
	for flag in $(grep -oE '^  --[a-z0-9-]+' <<<"$1" | sed 's/^ *//' | sort -u); do
		grep -qF -- "$flag" <<<"$2" || echo "$flag"
	done
}
archeio_page=$(MANWIDTH=200 man -l "$DEST/usr/share/man/man8/archeio.8" 2>/dev/null | sed 's/‐/-/g')
mirror_page=$(MANWIDTH=200 man -l "$DEST/usr/share/man/man1/archeio-mirror.1" 2>/dev/null | sed 's/‐/-/g')
check_eq "archeio(8) documents every flag of archeio --help" \
	"$(missing_flags "$("$ARCHEIO" --help)" "$archeio_page" | tr '\n' ' ')" ""
check_eq "archeio-mirror(1) documents every flag of archeio-mirror --help" \
	"$(missing_flags "$("$ROOT/$BUILD/archeio-mirror" --help)" "$mirror_page" | tr '\n' ' ')" ""
for word in --version SIGHUP --user archeio-fetch-ranges deploying; do
	check_match "archeio(8) mentions $word" "$archeio_page" "$word"
done

log "PREFIX defaults to /usr/local"
make -s -C "$ROOT" BUILD="$BUILD" install DESTDIR="$TMP/local" >"$TMP/install2.log" 2>&1 || cat "$TMP/install2.log"
check_eq "archeio in /usr/local/sbin" "$(test -x "$TMP/local/usr/local/sbin/archeio" && echo yes)" "yes"
check_match "the unit names /usr/local/sbin/archeio" \
	"$(grep '^ExecStart=' "$TMP/local/usr/local/lib/systemd/system/archeio.service")" "^ExecStart=/usr/local/sbin/archeio "

log "make uninstall"
make -s -C "$ROOT" BUILD="$BUILD" uninstall DESTDIR="$DEST" PREFIX=/usr >"$TMP/uninstall.log" 2>&1 || cat "$TMP/uninstall.log"
check_eq "nothing left after uninstall" "$(installed "$DEST")" ""

log "the version outside a git checkout: the Makefile's VERSION"
mkdir -p "$TMP/nogit"
cp "$ROOT/Makefile" "$TMP/nogit/"
make -s -C "$TMP/nogit" BUILD=b b/include/archeio_version.h >/dev/null 2>&1
check_eq "version header without git" "$(cat "$TMP/nogit/b/include/archeio_version.h" 2>&1)" \
	"#define ARCHEIO_VERSION \"$(sed -n 's/^VERSION := //p' "$ROOT/Makefile")\""
make -s -C "$TMP/nogit" BUILD=b ARCHEIO_VERSION=9.9.9-test b/include/archeio_version.h >/dev/null 2>&1
check_eq "a packager's ARCHEIO_VERSION wins" "$(cat "$TMP/nogit/b/include/archeio_version.h" 2>&1)" \
	'#define ARCHEIO_VERSION "9.9.9-test"'

finish
