#!/usr/bin/env bash
# The systemd units as `make install` writes them: `systemd-analyze verify`
# accepts them (binaries and man pages where the units say), the sandbox and
# the capability bounding set are what docs/deploying.md says, the sysusers.d
# entry creates the user, and - where systemd is PID 1 - archeio.service
# starts, drops to its user, answers, reloads and stops. Without systemd as
# PID 1 only that last part is skipped, with the reason.
source "$(dirname "$0")/../lib/common.sh"
require_cmd make systemd-analyze systemd-sysusers curl

# Installed under a real prefix (no DESTDIR), so that every path the units
# name exists for `verify`.
PREFIX="$TMP/prefix"
make -s -C "$ROOT" BUILD="$BUILD" install PREFIX="$PREFIX" >"$TMP/install.log" 2>&1 ||
	{ cat "$TMP/install.log"; fail "make install failed"; finish; }
UNITS="$PREFIX/lib/systemd/system"
SERVICE="$UNITS/archeio.service"
FETCH="$UNITS/archeio-fetch-ranges.service"
TIMER="$UNITS/archeio-fetch-ranges.timer"

log "systemd-analyze verify"
# man: links are checked against MANPATH; the units name each other, so
# they are verified together.
out=$(cd "$UNITS" && MANPATH="$PREFIX/share/man" SYSTEMD_LOG_COLOR=0 \
	systemd-analyze verify --man=yes "$SERVICE" "$FETCH" "$TIMER" 2>&1)
rc=$?
check_eq "verify: exit status" "$rc" "0"
check_eq "verify: no complaint" "$out" ""
# verify must notice a broken unit, or the check above proves nothing.
sed 's/^ExecStart=.*/ExecStart=relative\/archeio serve/' "$SERVICE" >"$TMP/broken.service"
check_match "verify refuses a broken copy" "$(systemd-analyze verify "$TMP/broken.service" 2>&1)" "relative"

# directive UNIT KEY: the unit's values of KEY, one line each
directive() { sed -n "s/^$2=//p" "$1"; }
log "archeio.service: sandbox and capabilities"
check_eq "Type" "$(directive "$SERVICE" Type)" "exec"
check_eq "ExecStart" "$(directive "$SERVICE" ExecStart)" "$PREFIX/sbin/archeio serve \$ARCHEIO_OPTS"
check_eq "ExecReload sends SIGHUP" "$(directive "$SERVICE" ExecReload)" "/bin/kill -HUP \$MAINPID"
check_match "runs as the archeio user (--user from the environment)" "$(directive "$SERVICE" Environment)" "ARCHEIO_USER=archeio"
check_match "ranges where the refresher writes them" "$(directive "$SERVICE" Environment)" "ARCHEIO_RANGES=/var/lib/archeio/ranges"
check_eq "ProtectSystem" "$(directive "$SERVICE" ProtectSystem)" "strict"
check_eq "ReadWritePaths: bpffs only" "$(directive "$SERVICE" ReadWritePaths)" "-/sys/fs/bpf"
check_eq "NoNewPrivileges" "$(directive "$SERVICE" NoNewPrivileges)" "yes"
check_eq "CapabilityBoundingSet: start-up's needs and nothing else" \
	"$(directive "$SERVICE" CapabilityBoundingSet | tr ' ' '\n' | sort | tr '\n' ' ')" \
	"CAP_BPF CAP_CHOWN CAP_DAC_OVERRIDE CAP_NET_ADMIN CAP_NET_BIND_SERVICE CAP_SETGID CAP_SETPCAP CAP_SETUID CAP_SYS_ADMIN "
check_eq "no ambient capabilities" "$(directive "$SERVICE" AmbientCapabilities)" ""
check_eq "a bad configuration is not restarted" "$(directive "$SERVICE" RestartPreventExitStatus)" "2"
check_eq "installed with the timer" "$(directive "$SERVICE" Also)" "archeio-fetch-ranges.timer"
for d in ProtectHome PrivateTmp PrivateDevices ProtectKernelModules ProtectControlGroups RestrictSUIDSGID LockPersonality; do
	check_eq "$d" "$(directive "$SERVICE" "$d")" "yes"
done
exposure=$(systemd-analyze security --offline=yes "$SERVICE" 2>/dev/null | sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p')
log "systemd-analyze security: exposure $exposure (root start, bounded; lower is better)"
check_match "systemd-analyze security rates it MEDIUM or better" "$exposure" "^([0-6])\.[0-9]$"

log "the refresher"
check_eq "refresher: oneshot" "$(directive "$FETCH" Type)" "oneshot"
check_eq "refresher: its own user" "$(directive "$FETCH" User)" "archeio"
check_eq "refresher: writes only its state directory" "$(directive "$FETCH" StateDirectory)" "archeio archeio/ranges"
check_eq "refresher: ProtectSystem" "$(directive "$FETCH" ProtectSystem)" "strict"
check_eq "refresher: no capabilities" "$(directive "$FETCH" CapabilityBoundingSet)" ""
check_eq "refresher: downloads into the ranges directory" "$(directive "$FETCH" ExecStart)" \
	"$PREFIX/sbin/archeio-fetch-ranges /var/lib/archeio/ranges"
check_eq "refresher: then reloads archeio (if it runs)" "$(directive "$FETCH" ExecStartPost)" \
	"+/bin/systemctl --no-block try-reload-or-restart archeio.service"
check_eq "timer: daily" "$(directive "$TIMER" OnCalendar)" "daily"
check_eq "timer: catches up after downtime" "$(directive "$TIMER" Persistent)" "true"

log "sysusers.d: the archeio user"
mkdir -p "$TMP/sysroot/etc"
touch "$TMP/sysroot/etc/passwd" "$TMP/sysroot/etc/group" "$TMP/sysroot/etc/shadow" "$TMP/sysroot/etc/gshadow"
systemd-sysusers --root="$TMP/sysroot" "$PREFIX/lib/sysusers.d/archeio.conf" >/dev/null 2>&1
check_match "a system user with no login" "$(grep '^archeio:' "$TMP/sysroot/etc/passwd")" \
	"^archeio:x:[0-9]+:[0-9]+:[^:]*:/var/lib/archeio:/usr/sbin/nologin$"
check_match "its own group" "$(grep '^archeio:' "$TMP/sysroot/etc/group")" "^archeio:x:[0-9]+:$"

log "archeio.service under systemd"
pid1=$(ps -p 1 -o comm= 2>/dev/null)
if [ "$pid1" != systemd ]; then
	log "SKIP (this part only): PID 1 is '$pid1', not systemd, so no unit can be started here;" \
		"the units were verified above"
else
	RUNDIR="/run/archeio-test-$$" # not /tmp: the unit has its own
	NAME="archeio-test-$$"
	PORT=$(free_port)
	mkdir -p "$RUNDIR/ranges"
	on_exit "rm -rf $RUNDIR"
	printf '192.0.2.0/24 lab one\n' >"$RUNDIR/ranges/operator.txt"
	printf 'lab:one http://127.0.0.1:9/one\n' >"$RUNDIR/mirrors"
	chmod -R a+rX "$RUNDIR"
	# The test's own user (sysusers.d as installed would create "archeio").
	useradd --system --no-create-home --shell /usr/sbin/nologin "$NAME" && on_exit "userdel $NAME"
	sed -e "s/^Environment=ARCHEIO_USER=.*/Environment=ARCHEIO_USER=$NAME/" \
		-e "s|^Environment=ARCHEIO_RANGES=.*|Environment=ARCHEIO_RANGES=$RUNDIR/ranges|" \
		-e "s|^EnvironmentFile=.*|Environment=\"ARCHEIO_OPTS=--listen 127.0.0.1:$PORT --mirrors $RUNDIR/mirrors --upstream http://127.0.0.1:9 --upstream-path test --workers 1\"|" \
		-e '/^Also=/d' "$SERVICE" >"/run/systemd/system/$NAME.service"
	on_exit "systemctl stop $NAME.service; rm -f /run/systemd/system/$NAME.service; systemctl daemon-reload"
	systemctl daemon-reload
	systemctl start "$NAME.service"
	wait_for_port 127.0.0.1 "$PORT" 10
	MAIN=$(systemctl show -p MainPID --value "$NAME.service")
	check_match "the unit runs" "$MAIN" "^[1-9][0-9]*$"
	check_eq "as its user" "$(awk '/^Uid:/ {print $2}' "/proc/$MAIN/status")" "$(id -u "$NAME")"
	check_eq "with no capability" "$(awk '/^CapEff:/ {print $2}' "/proc/$MAIN/status")" "0000000000000000"
	check_eq "it answers" "$(status_location "http://127.0.0.1:$PORT/v2/pause/manifests/1")" \
		"307 http://127.0.0.1:9/v2/test/pause/manifests/1"
	systemctl reload "$NAME.service"
	sleep 1
	check_match "systemctl reload reloads" "$(journalctl -u "$NAME.service" --no-pager 2>/dev/null | grep -c 'reloaded:')" "^[1-9]"
	systemctl stop "$NAME.service"
	check_eq "it stops" "$(systemctl is-active "$NAME.service")" "inactive"
fi

finish
