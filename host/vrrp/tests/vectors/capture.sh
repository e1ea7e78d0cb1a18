#!/usr/bin/env bash
# Regenerate the keepalived VRRP test vectors in this directory.
#
# For each config in conf/ it builds two private network namespaces joined by
# a veth pair, runs keepalived (VRRP only) as MASTER in one of them, records
# its adverts with tcpdump on the peer end, stops keepalived with SIGTERM
# (which makes it send a priority-0 advert) and turns the first advert (and
# the priority-0 advert, where wanted) into a .hex vector via pcap2hex.py.
# Finally vectors.toml is regenerated from the .hex files.
#
# Network rules: only 192.0.2.0/24 and 2001:db8::/64 (plus the link-local
# and the VRRP multicast groups 224.0.0.18 / ff02::12 on the veth), and only
# inside the namespaces made here.  Nothing is sent on the host's own
# interfaces.  Every namespace and process started here is removed on exit,
# also on failure or Ctrl-C.
#
# Needs root and: apt-get install -y keepalived tcpdump iproute2 python3
# Usage: sudo host/vrrp/tests/vectors/capture.sh      (KEEP_TMP=1 keeps pcaps)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PREFIX="bvcap$$-"
NS_K="${PREFIX}k"      # keepalived runs here, on bvk0
NS_T="${PREFIX}t"      # tcpdump listens here, on bvt0
TMP="$(mktemp -d /tmp/bvcap.XXXXXX)"
PIDS=()                # every background process we started

log() { printf '[capture] %s\n' "$*" >&2; }

cleanup() {
    local rc=$?
    set +e
    for pid in "${PIDS[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null
            for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -KILL "$pid" 2>/dev/null
        fi
        wait "$pid" 2>/dev/null
    done
    # keepalived's VRRP child: killed by its parent, but make sure (by pid file).
    for pf in "$TMP"/*.vrrp.pid; do
        [[ -f $pf ]] || continue
        pid="$(cat "$pf" 2>/dev/null)"
        [[ -n $pid ]] && kill -KILL "$pid" 2>/dev/null
    done
    for ns in "$NS_K" "$NS_T"; do
        ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
        ip netns del "$ns" 2>/dev/null
    done
    if [[ ${KEEP_TMP:-0} == 1 || $rc != 0 ]]; then
        log "temporary files kept in $TMP"
    else
        rm -rf "$TMP"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[[ $(id -u) == 0 ]] || { echo "capture.sh: must run as root" >&2; exit 1; }
for t in keepalived tcpdump ip python3; do
    command -v "$t" >/dev/null || { echo "capture.sh: $t missing (apt-get install -y keepalived tcpdump iproute2 python3)" >&2; exit 1; }
done

KA_VERSION="$(keepalived --version 2>&1 | sed -n 1p)"
TCPDUMP_VERSION="$(tcpdump --version 2>&1 | sed -n 1p)"
DATE="$(date -u +%Y-%m-%d)"
log "$KA_VERSION; $TCPDUMP_VERSION"

setup_netns() {
    ip netns add "$NS_K"
    ip netns add "$NS_T"
    for ns in "$NS_K" "$NS_T"; do
        # No DAD, so the IPv6 link-local address is usable at once.
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
            net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.default.router_solicitations=0
        ip -n "$ns" link set lo up
    done
    # The kernel's automatic IPv6 flow label is a hash with a random per-boot
    # seed; turn it off so the IPv6 vector is identical on every run.
    ip netns exec "$NS_K" sysctl -qw net.ipv6.auto_flowlabels=0
    # Fixed MACs => fixed link-local addresses (fe80::ff:fe00:b01 / ::b02).
    ip -n "$NS_K" link add bvk0 address 02:00:00:00:0b:01 type veth \
        peer name bvt0 address 02:00:00:00:0b:02 netns "$NS_T"
    ip -n "$NS_K" addr add 192.0.2.1/24 dev bvk0
    ip -n "$NS_K" addr add 2001:db8::1/64 dev bvk0 nodad
    ip -n "$NS_T" addr add 192.0.2.2/24 dev bvt0
    ip -n "$NS_T" addr add 2001:db8::2/64 dev bvt0 nodad
    ip -n "$NS_K" link set bvk0 up
    ip -n "$NS_T" link set bvt0 up
}

# wait_for COUNT PCAP TIMEOUT_S: wait until PCAP holds COUNT VRRP packets.
wait_for() {
    local want=$1 pcap=$2 deadline=$((SECONDS + $3)) n=0
    while ((SECONDS < deadline)); do
        n="$(python3 "$HERE/pcap2hex.py" count "$pcap" 2>/dev/null || echo 0)"
        ((n >= want)) && return 0
        sleep 0.2
    done
    log "timeout: $pcap has $n VRRP packets, wanted $want"
    return 1
}

# run_case NAME CONF PRIO0_NAME CASE_TEXT
#   captures adverts of keepalived run with conf/CONF; writes NAME.hex and,
#   if PRIO0_NAME is not empty, PRIO0_NAME.hex (the SIGTERM priority-0 advert).
run_case() {
    local name=$1 conf=$2 prio0=$3 text=$4
    local pcap="$TMP/$name.pcap" klog="$TMP/$name.keepalived.log"
    log "case $name ($conf)"
    setup_netns

    ip netns exec "$NS_T" tcpdump -i bvt0 -n -U -s 0 -c 40 -Z root -w "$pcap" \
        'ip proto 112 or ip6 proto 112' 2>"$TMP/$name.tcpdump.log" &
    local tcpdump_pid=$!
    PIDS+=("$tcpdump_pid")
    # tcpdump writes the pcap header once it is listening
    for _ in $(seq 50); do [[ -s $pcap ]] && break; sleep 0.1; done
    [[ -s $pcap ]] || { cat "$TMP/$name.tcpdump.log" >&2; return 1; }

    # -P: VRRP subsystem only; -n: no daemon; -l -D -G: detailed log to
    # console, not syslog; private pid files so nothing on the host collides.
    ip netns exec "$NS_K" keepalived -f "$HERE/conf/$conf" -P -n -l -D -G \
        -p "$TMP/$name.pid" -r "$TMP/$name.vrrp.pid" -c "$TMP/$name.chk.pid" \
        -b "$TMP/$name.bfd.pid" >"$klog" 2>&1 &
    local ka_pid=$!
    PIDS+=("$ka_pid")

    if ! wait_for 3 "$pcap" 20; then cat "$klog" >&2; return 1; fi
    kill -TERM "$ka_pid"
    for _ in $(seq 100); do kill -0 "$ka_pid" 2>/dev/null || break; sleep 0.1; done
    wait "$ka_pid" 2>/dev/null || true
    sleep 0.5
    kill -INT "$tcpdump_pid" 2>/dev/null || true
    wait "$tcpdump_pid" 2>/dev/null || true

    local hdr=("$name.hex: one VRRP advert, full IP packet (link layer stripped)."
               "Captured from a real $KA_VERSION on $DATE by capture.sh"
               "($TCPDUMP_VERSION on the peer end of a veth pair, Linux $(uname -r))."
               "Config: conf/$conf - $text")
    python3 "$HERE/pcap2hex.py" extract "$pcap" "$HERE/$name.hex" --which advert \
        "${hdr[@]/#/--comment=}"
    if [[ -n $prio0 ]]; then
        hdr[0]="$prio0.hex: the priority-0 advert keepalived sends when stopped with SIGTERM."
        hdr+=("Note: the IPv4 ID (and so the IP header checksum) counts the adverts sent"
              "before the stop, so those two fields differ between runs.")
        python3 "$HERE/pcap2hex.py" extract "$pcap" "$HERE/$prio0.hex" --which prio0 \
            "${hdr[@]/#/--comment=}"
    fi

    ip netns del "$NS_K"
    ip netns del "$NS_T"
}

run_case v2_ipv4_pass   v2_ipv4_pass.conf   v2_ipv4_pass_prio0 \
    "VRRPv2 IPv4, auth PASS 1111, vrid 51, prio 150, advert_int 1, VIPs 192.0.2.100/24 192.0.2.101/24."
run_case v2_ipv4_noauth v2_ipv4_noauth.conf "" \
    "VRRPv2 IPv4, no auth, vrid 52, prio 100, advert_int 1, VIP 192.0.2.102/24."
run_case v3_ipv4        v3_ipv4.conf        v3_ipv4_prio0 \
    "VRRPv3 IPv4, vrid 53, prio 200, advert_int 0.1, VIPs 192.0.2.110/24 192.0.2.111/24."
run_case v3_ipv6        v3_ipv6.conf        "" \
    "VRRPv3 IPv6, vrid 54, prio 120, advert_int 1, VIPs 2001:db8::100/64 2001:db8::101/64."
# Case f (v3 IPv4 checksum without the pseudo-header): keepalived 2.2.7 has no
# such option; its only checksum knob, old_unicast_checksum, is unicast-only.

python3 "$HERE/pcap2hex.py" toml "$HERE/vectors.toml" \
    "$HERE"/v2_ipv4_pass.hex "$HERE"/v2_ipv4_pass_prio0.hex "$HERE"/v2_ipv4_noauth.hex \
    "$HERE"/v3_ipv4.hex "$HERE"/v3_ipv4_prio0.hex "$HERE"/v3_ipv6.hex
log "done: $(cd "$HERE" && ls ./*.hex vectors.toml | tr '\n' ' ')"
