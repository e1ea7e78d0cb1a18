#!/bin/sh
# Config-test the keepalived.conf examples with the real keepalived, as
# deployed: `keepalived -t -f FILE -l -D` (parse and check only; nothing is
# started, no packet is sent). Each file is tested in throw-away namespaces
# (unshare --mount --net) that look like the seed's lb01/lb02:
#   - interfaces eth0 and eth1 (a veth pair, down, in a new network namespace;
#     keepalived -t refuses an instance whose interface does not exist);
#   - the directory's *.sh installed as /server/scripts/*.sh, root-owned, 0755
#     (keepalived -t disables a track script whose file is missing), in a
#     chroot whose / is a tmpfs with /usr, /etc, /dev, /proc, /run bound in.
# A file passes when keepalived exits 0 and prints nothing: no error, no
# warning. Run as root.
#
# usage: examples/keepalived-test.sh [FILE.conf...]   (default: examples/*/*.conf)
set -u
here=$(cd "$(dirname "$0")" && pwd)
[ $# -gt 0 ] || set -- "$here"/*/*.conf
command -v keepalived >/dev/null || { echo "keepalived not installed" >&2; exit 2; }
keepalived --version 2>&1 | head -n 1

# Runs inside the new namespaces: $1 = scratch mount point, $2 = directory of
# the example, $3 = the .conf file name.
inside='
set -eu
root=$1 dir=$2 conf=$3
ip link add eth0 type veth peer name eth1
mount -t tmpfs -o mode=0755 tmpfs "$root"
for d in usr etc dev proc run; do mkdir "$root/$d"; mount --rbind "/$d" "$root/$d"; done
mkdir "$root/sys" && mount -t sysfs sysfs "$root/sys"
for d in bin sbin lib lib64 lib32 libx32; do
    if [ -L "/$d" ]; then ln -s "$(readlink "/$d")" "$root/$d"
    elif [ -d "/$d" ]; then mkdir "$root/$d"; mount --rbind "/$d" "$root/$d"; fi
done
mkdir -m 0755 -p "$root/server/scripts" "$root/example"
for s in "$dir"/*.sh; do
    [ -e "$s" ] || continue
    install -o root -g root -m 0755 "$s" "$root/server/scripts/"
done
mount --bind "$dir" "$root/example"
exec chroot "$root" sh -c "cd /example && exec keepalived -t -f \"\$1\" -l -D" sh "$conf"
'

fail=0
for f; do
    dir=$(cd "$(dirname "$f")" && pwd)
    conf=$(basename "$f")
    scratch=$(mktemp -d)
    out=$(unshare --mount --net sh -c "$inside" sh "$scratch" "$dir" "$conf" 2>&1)
    rc=$?
    rmdir "$scratch"
    name=${dir#"$here"/}/$conf
    if [ "$rc" -eq 0 ] && [ -z "$out" ]; then
        echo "ok    $name"
    else
        echo "FAIL  $name (exit $rc)"
        [ -z "$out" ] || printf '%s\n' "$out" | sed 's/^/      /'
        fail=1
    fi
done
exit $fail
