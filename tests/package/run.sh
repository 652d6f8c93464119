#!/bin/bash
# tests/package/run.sh - the Debian package, end to end, on this machine.
#
# Builds wsserverd_*.deb from a copy of the source tree
# (dpkg-buildpackage -us -uc -b), checks it with lintian (no error, no
# warning), installs it with "apt-get install ./wsserverd_*.deb", checks
# the system user, the conffile and the enabled service, runs
# "wsserverd -t" on the packaged configuration, starts the installed
# daemon by hand with that configuration (systemd need not be PID 1),
# checks that it runs as the packaged user and that a real WebSocket
# client gets the demo handler's answer, stops it, purges the package
# and checks that no file, user, group or process is left.
#
# It installs and removes a package: run it as root (or with sudo) on a
# machine where that is fine, such as CI's. The daemon listens on
# 127.0.0.1:8080 as packaged, so that port must be free. Prints one
# "ok"/"FAIL" line per check and, last, "N passed, M failed"; exits 0
# only if every check passed.
#
#	tests/package/run.sh [SOURCE_DIR]

set -u
export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8

src=$(cd "${1:-$(dirname "$0")/../..}" && pwd)
sudo=
if [ "$(id -u)" -ne 0 ]; then
	sudo=sudo
fi
USER_NAME=_wsserverd
INI=/etc/wsserverd/wsserverd.ini
PYTHON=/usr/bin/python3

passed=0
failed=0
work=$(mktemp -d "${TMPDIR:-/tmp}/wsserverd-deb.XXXXXX")
daemon_pid=

ok() {
	passed=$((passed + 1))
	echo "ok - $*"
}

fail() {
	failed=$((failed + 1))
	echo "FAIL - $*"
}

# check DESCRIPTION COMMAND...: one check; the command's output is shown
# when it fails.
check() {
	local desc=$1 out
	shift
	if out=$("$@" 2>&1); then
		ok "$desc"
	else
		fail "$desc"
		printf '%s\n' "$out" | tail -n 40 | sed 's/^/    /'
	fi
}

finish() {
	if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then
		$sudo kill -KILL "$daemon_pid" 2>/dev/null
	fi
	if dpkg-query -W -f='${Status}' wsserverd 2>/dev/null |
	    grep -q 'installed'; then
		$sudo apt-get purge -y -q wsserverd >/dev/null 2>&1
	fi
	rm -rf "$work"
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
}
trap finish EXIT
trap 'exit 130' INT TERM

for tool in dpkg-buildpackage lintian apt-get "$PYTHON"; do
	if ! command -v "$tool" >/dev/null; then
		fail "$tool is missing (run .ci/deps)"
		exit 1
	fi
done
if dpkg-query -W -f='${Status}' wsserverd 2>/dev/null | grep -q installed; then
	echo "# wsserverd is installed already: purging it first"
	$sudo apt-get purge -y -q wsserverd >/dev/null
fi

# --- build
# A copy of the tree: the build runs autoreconf and configure in place,
# and the source tree may hold out-of-tree builds (CI's build/).
mkdir -p "$work/wsserverd"
if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	(cd "$src" && git ls-files -z --cached --others --exclude-standard) |
	    (cd "$src" && tar --null -T - -cf -) | tar -C "$work/wsserverd" -xf -
else
	tar -C "$src" --exclude='./build*' --exclude=./autom4te.cache \
	    -cf - . | tar -C "$work/wsserverd" -xf -
fi
echo "# dpkg-buildpackage -us -uc -b (log: build.log)"
if (cd "$work/wsserverd" &&
    DEB_BUILD_OPTIONS="parallel=$(nproc) ${DEB_BUILD_OPTIONS:-}" \
    dpkg-buildpackage -us -uc -b) >"$work/build.log" 2>&1; then
	ok "dpkg-buildpackage -us -uc -b"
else
	fail "dpkg-buildpackage -us -uc -b"
	tail -n 60 "$work/build.log" | sed 's/^/    /'
	exit 1
fi
deb=$(ls "$work"/wsserverd_*.deb)
changes=$(ls "$work"/wsserverd_*.changes)

# --- lintian: no error and no warning (overrides carry their reasons)
lintian --fail-on error,warning "$changes" >"$work/lintian.log" 2>&1
rc=$?
grep -v '^running with root privileges' "$work/lintian.log" | sed 's/^/# lintian: /'
if [ "$rc" -eq 0 ] && ! grep -Eq '^[EW]: ' "$work/lintian.log"; then
	ok "lintian: no error, no warning"
else
	fail "lintian: errors or warnings (exit $rc)"
fi

# --- install
check "apt-get install ./$(basename "$deb")" \
    sh -c "cd '$work' && $sudo apt-get install -y -q './$(basename "$deb")'"

user_ok() {
	local line uid shell home
	line=$(getent passwd "$USER_NAME") || { echo "no user $USER_NAME"; return 1; }
	uid=$(echo "$line" | cut -d: -f3)
	home=$(echo "$line" | cut -d: -f6)
	shell=$(echo "$line" | cut -d: -f7)
	echo "$line"
	getent group "$USER_NAME" >/dev/null || { echo "no group"; return 1; }
	[ "$uid" -lt 1000 ] && [ "$home" = /nonexistent ] &&
	    [ "$shell" = /usr/sbin/nologin ]
}
check "system user and group $USER_NAME" user_ok

conffile_ok() {
	dpkg-query -W -f='${Conffiles}\n' wsserverd | tee /dev/stderr |
	    grep -q "^ $INI "
}
check "$INI is a conffile" conffile_ok

ini_ok() {
	grep -qx "User = $USER_NAME" "$INI" &&
	    grep -qx "Socket = /run/wsserverd/admin.sock" "$INI" &&
	    grep -qx "AllowRootHandlers = false" "$INI"
}
check "the packaged ini: User = $USER_NAME, admin socket in /run/wsserverd, no root handlers" ini_ok

check "wsserverd.service enabled (dh_installsystemd)" \
    test -L /etc/systemd/system/multi-user.target.wants/wsserverd.service
check "wsserverd.socket shipped, not enabled" sh -c \
    "test -f /lib/systemd/system/wsserverd.socket &&
     ! test -e /etc/systemd/system/sockets.target.wants/wsserverd.socket"
check "man pages installed" test -f /usr/share/man/man8/wsserverd.8.gz \
    -a -f /usr/share/man/man8/wsserverctl.8.gz \
    -a -f /usr/share/man/man5/wsserverd.ini.5.gz

check "bash completion of wsserverctl installed where bash-completion looks" \
    test -f /usr/share/bash-completion/completions/wsserverctl

check "wsserverd -t -c $INI" sh -c "$sudo /usr/sbin/wsserverd -t -c $INI"

# --- run it by hand, as packaged
port_free() {
	! (exec 3<>/dev/tcp/127.0.0.1/8080) 2>/dev/null
}
if ! port_free; then
	fail "127.0.0.1:8080 is in use: the packaged daemon cannot be started"
	exit 1
fi
log="$work/daemon.log"
$sudo /usr/sbin/wsserverd -f -c "$INI" >"$log" 2>&1 </dev/null &
daemon_pid=$!
bg_pid=$daemon_pid
if [ -n "$sudo" ]; then
	# sudo's child is the daemon.
	for _ in $(seq 50); do
		p=$(pgrep -P "$daemon_pid" -x wsserverd) && break
		sleep 0.1
	done
	daemon_pid=${p:-$daemon_pid}
fi

wait_listening() {
	local i
	for i in $(seq 300); do
		grep -q 'listening on 127.0.0.1:8080' "$log" && return 0
		kill -0 "$daemon_pid" 2>/dev/null || break
		sleep 0.1
	done
	cat "$log"
	return 1
}
check "the installed daemon starts and listens on 127.0.0.1:8080" wait_listening

# Every process of the daemon (the master and its workers) runs as the
# user: real, effective, saved and filesystem uid and gid.
runs_as_user() {
	local uid gid pid all n=0
	uid=$(id -u "$USER_NAME")
	gid=$(id -g "$USER_NAME")
	all="$daemon_pid $(pgrep -P "$daemon_pid" -x wsserverd | tr '\n' ' ')"
	for pid in $all; do
		n=$((n + 1))
		grep -E '^(Uid|Gid):' "/proc/$pid/status" | sed "s/^/$pid /"
		awk -v u="$uid" -v g="$gid" '
			/^Uid:/ { if ($2 != u || $3 != u || $4 != u || $5 != u) bad = 1 }
			/^Gid:/ { if ($2 != g || $3 != g || $4 != g || $5 != g) bad = 1 }
			END { exit bad }' "/proc/$pid/status" || return 1
	done
	[ "$n" -ge 1 ]
}
# The drop happens once the sockets are bound, before the listening line.
check "the daemon runs as $USER_NAME (/proc/PID/status Uid, Gid)" runs_as_user

greeter() {
	timeout 30 "$PYTHON" - <<-'EOF'
	import asyncio
	import websockets

	async def main():
	    async with websockets.connect("ws://127.0.0.1:8080/",
	            open_timeout=10, close_timeout=10) as ws:
	        hello = await asyncio.wait_for(ws.recv(), 10)
	        assert hello == "hello from wsserverd", hello
	        await ws.send("packaged")
	        answer = await asyncio.wait_for(ws.recv(), 10)
	        assert answer == "you said: packaged", answer
	        print(hello, "/", answer)

	asyncio.run(main())
	EOF
}
check "a WebSocket client gets the greeter's answer on ws://127.0.0.1:8080/" greeter

check "wsserverctl status over /run/wsserverd/admin.sock" \
    sh -c "$sudo /usr/sbin/wsserverctl -c $INI status"

# Not through check: wait needs this shell, not a subshell.
$sudo kill -TERM "$daemon_pid"
for _ in $(seq 200); do
	kill -0 "$daemon_pid" 2>/dev/null || break
	sleep 0.1
done
if kill -0 "$daemon_pid" 2>/dev/null; then
	fail "SIGTERM stops it within 20 s"
else
	wait "$bg_pid"
	rc=$?
	daemon_pid=
	# Under sudo the status is sudo's, which passes the daemon's on.
	if [ "$rc" -eq 0 ]; then
		ok "SIGTERM stops it, exit status 0"
	else
		fail "SIGTERM stops it, exit status 0 (got $rc)"
		tail -n 20 "$log" | sed 's/^/    /'
	fi
fi

# --- purge
check "apt-get purge -y wsserverd" sh -c "$sudo apt-get purge -y -q wsserverd"

nothing_left() {
	local left=0 f
	for f in /etc/wsserverd /usr/sbin/wsserverd /usr/sbin/wsserverctl \
	    /lib/systemd/system/wsserverd.service \
	    /lib/systemd/system/wsserverd.socket \
	    /etc/systemd/system/multi-user.target.wants/wsserverd.service \
	    /usr/share/man/man8/wsserverd.8.gz \
	    /usr/share/man/man8/wsserverctl.8.gz \
	    /usr/share/man/man5/wsserverd.ini.5.gz \
	    /usr/share/bash-completion/completions/wsserverctl \
	    /usr/share/doc/wsserverd /run/wsserverd; do
		if [ -e "$f" ] || [ -L "$f" ]; then
			echo "left: $f"
			left=1
		fi
	done
	if dpkg-query -W -f='${Status}\n' wsserverd 2>/dev/null |
	    grep -qv 'not-installed'; then
		dpkg-query -W -f='${Status}\n' wsserverd
		left=1
	fi
	[ "$left" -eq 0 ]
}
check "purge leaves no file" nothing_left
check "purge leaves no user" sh -c "! getent passwd $USER_NAME"
check "purge leaves no group" sh -c "! getent group $USER_NAME"

no_process() {
	local pid exe found=0
	for pid in /proc/[0-9]*; do
		exe=$(readlink "$pid/exe" 2>/dev/null) || continue
		case $exe in
		/usr/sbin/wsserverd*|/usr/sbin/wsserverctl*)
			echo "left: ${pid#/proc/} $exe"
			found=1
			;;
		esac
	done
	[ "$found" -eq 0 ]
}
check "no wsserverd process left" no_process
