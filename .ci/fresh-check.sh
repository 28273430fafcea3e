#!/bin/sh
# make fresh-check: README's two commands, `make check` and `make demo`, as
# root on a brand-new minimal Debian 12, from a clean clone of HEAD.
#
# mmdebstrap builds the root (variant minbase, plus only what README tells a
# user to have before `make check`: git, make, ca-certificates) from this
# machine's Debian apt sources, downloading everything afresh; nothing of
# the host's packages, build trees, home or caches goes in.  `git clone` of
# the repository (not a copy of the work tree) puts HEAD in /root/pdtools.
# Then /proc, /sys and /dev are mounted in it, the host's resolv.conf is
# copied in for apt, and both commands run in a chroot with a clean
# environment, HOME=/root and stdin from /dev/null, as in CI.  On exit,
# failure and interruption included, whatever runs in the root is killed,
# the mounts are undone and the root is removed (FRESH_KEEP=1 keeps it).
#
#   FRESH_SOURCES  the apt sources file (default: the machine's Debian one)
#   FRESH_SUITE    default bookworm
#   FRESH_DIR      where the root is made (default /var/tmp)
#   FRESH_LOG      where make check's verbose output is copied (default
#                  build/fresh-check.log)
set -eu

src=$(git rev-parse --show-toplevel)
rev=$(git -C "$src" rev-parse HEAD)
suite=${FRESH_SUITE:-bookworm}
sources=${FRESH_SOURCES:-}
if [ -z "$sources" ]; then
	for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list; do
		if [ -s "$f" ]; then sources=$f; break; fi
	done
fi
die() { echo "fresh-check: $*" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || die "must run as root (mmdebstrap, chroot and mounts)"
command -v mmdebstrap >/dev/null || die "mmdebstrap is not installed (make deps installs it)"
if [ -z "$sources" ] || [ ! -s "$sources" ]; then die "no apt sources file; set FRESH_SOURCES"; fi
# Only Debian's archives: another repository in the file (a vendor's, a
# mirror of something else) is not what a fresh Debian machine has.
if grep -Ei '^[[:space:]]*(deb|URIs:)' "$sources" | grep -Eiv 'debian' >/dev/null; then
	die "$sources names a repository that is not Debian's; set FRESH_SOURCES to Debian's sources only"
fi

# release ROOT [keep]: end what still runs in it (only this script's runs
# put processes there), undo its mounts (each tree whole, lazily if busy),
# and remove it unless keep is given; never while a mount is left in it.
release() {
	for p in /proc/[0-9]*; do
		if [ "$(readlink "$p/root" 2>/dev/null)" = "$1" ]; then kill -9 "${p#/proc/}" 2>/dev/null; fi
	done
	for m in dev sys proc; do
		if grep -q " $1/$m " /proc/self/mounts; then
			umount -R "$1/$m" 2>/dev/null || umount -R -l "$1/$m"
		fi
	done
	if grep -q " $1/" /proc/self/mounts; then
		echo "fresh-check: mounts left under $1; not removing it" >&2
		return 1
	fi
	if [ -n "${2:-}" ]; then
		echo "fresh-check: root kept in $1" >&2
	else
		rm -rf --one-file-system "$1"
	fi
}

# A run killed outright (SIGKILL, a lost machine) leaves its root and its
# mounts behind.  Each run notes its process id beside its root (ROOT.pid,
# removed at its end); the root of a run whose process is gone is
# released first.  (A root kept with FRESH_KEEP has no such note.)
dir=${FRESH_DIR:-/var/tmp}
for note in "$dir"/pdtools-fresh.*.pid; do
	[ -f "$note" ] || continue
	if kill -0 "$(cat "$note")" 2>/dev/null; then continue; fi
	echo "fresh-check: releasing ${note%.pid}, left by a run that was killed"
	if [ ! -d "${note%.pid}" ] || release "${note%.pid}"; then rm -f "$note"; fi
done

log=${FRESH_LOG:-$src/build/fresh-check.log}
start=$(date +%s)
root=$(mktemp -d "$dir/pdtools-fresh.XXXXXX")
chmod 755 "$root"
echo $$ >"$root.pid"
child=
cleanup() {
	rc=$?
	set +e
	trap - EXIT INT TERM HUP
	# mmdebstrap, when interrupted while it works, undoes its own mounts.
	if [ -n "$child" ]; then kill "$child" 2>/dev/null && wait "$child"; fi
	if [ -f "$root/root/check.log" ]; then
		mkdir -p "$(dirname "$log")" && cp "$root/root/check.log" "$log" &&
			echo "fresh-check: make check's whole output is in $log"
	fi
	if release "$root" "${FRESH_KEEP:-}"; then rm -f "$root.pid"; else rc=2; fi
	echo "fresh-check: $(($(date +%s) - start)) s in all"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

echo "fresh-check: $suite minbase + git, make, ca-certificates from $sources into $root"
# Each long step runs in the background and is waited for, so that a
# signal ends the run at once (the trap) instead of after the step.
mmdebstrap --quiet --variant=minbase --include=git,make,ca-certificates \
    --aptopt='Acquire::Languages "none"' "$suite" "$root" "$sources" &
child=$!
wait "$child"
child=
t_root=$(($(date +%s) - start))
echo "fresh-check: root made in $t_root s"

git clone --quiet --no-local --no-checkout "$src" "$root/root/pdtools"
git -C "$root/root/pdtools" checkout --quiet --detach "$rev"
echo "fresh-check: clean clone of $(git -C "$src" log -1 --format='%h %s' "$rev" | cut -c1-72)"
cp -L /etc/resolv.conf "$root/etc/resolv.conf"

# The run, as root in the chroot: make check, then make demo, as README
# says.  make check's prove runs verbose into /root/check.log; what is shown
# here is each test file's line, every failing test with its diagnostics
# and prove's summary (the whole log is copied out at the end).
cat >"$root/root/fresh-run.sh" <<'EOS'
set -u
cd /root/pdtools
t0=$(date +%s)
rc=0
make check PROVE_OPTS=-v >/root/check.log 2>&1 || rc=$?
awk '
/^not ok/ { print; diag = 1; next }
diag && /^#/ { print; next }
{ diag = 0 }
/^(build\/|\/root\/pdtools\/).*\.\.\.* *$/ { print; next }
/^(Test Summary Report|All tests successful)/ { tail = 1 }
tail' /root/check.log
if [ "$rc" -ne 0 ]; then
	grep -q '^Result:' /root/check.log || tail -n 40 /root/check.log
	echo "fresh-check: make check failed (exit $rc) after $(($(date +%s) - t0)) s"
	exit "$rc"
fi
t1=$(date +%s)
make demo || { echo "fresh-check: make demo failed"; exit 1; }
echo "fresh-check: make check $((t1 - t0)) s, make demo $(($(date +%s) - t1)) s"
EOS

# /proc, /sys and /dev for the run, in this mount namespace: a namespace
# of its own would put every other process of the machine in a "foreign"
# one, and perf, sampling system-wide, would then enter it to read their
# binaries (and trip over the chroot: assertion failed at
# util/namespaces.c:301), which no fresh machine does.  The bind mounts
# are slaves, so that unmounting them never reaches the host's.
mount -t proc proc "$root/proc"
mount --rbind /sys "$root/sys"
mount --make-rslave "$root/sys"
mount --rbind /dev "$root/dev"
mount --make-rslave "$root/dev"
chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin /bin/sh /root/fresh-run.sh </dev/null &
run=$!
wait "$run"
echo "fresh-check: make check and make demo passed on a fresh $suite root"
