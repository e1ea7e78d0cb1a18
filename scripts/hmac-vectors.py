#!/usr/bin/env python3
"""Test vectors for VRRP auth_hmac (docs/auth-hmac.md), built independently of
Baton's Rust code with the Python standard library only.

    python3 scripts/hmac-vectors.py > host/vrrp/tests/data/hmac-vectors.json

Every payload is the VRRP payload (IP payload): header, addresses, v2 auth
data, then the 28-byte trailer, with the checksum a peer must see. The script
also rebuilds the two wire images of keepalived's test/auth_hmac_test.c (which
says they are the draft appendix images) and exits non-zero if it does not
reproduce them byte for byte.
"""

import hashlib
import hmac
import ipaddress
import json
import struct
import sys

TRAILER_LEN = 28
HMAC_LEN = 16
EXT_TYPE_HMAC_SHA256_128 = 1
IPPROTO_VRRP = 112

# Fixed keys (32 bytes each, the keepalived minimum). Synthetic, not secret.
KEY1 = bytes.fromhex("5a1c2e3f40516273849596a7b8c9dae0f10213243546576879809aabbccddeef")
KEY2 = bytes.fromhex("e0d1c2b3a4958677685948372a1b0c0dfeedfacecafebeef0011223344556677")
# Fixed sender clock: 1782000000.5 s after the Unix epoch (2026-06-21 UTC).
UNIX_NS = 1782000000 * 10**9 + 500_000_000


def seq_from_unix_ns(ns, ctr=0):
    """keepalived clock_seq(): seconds (32) | floor(frac * 2^16) (16) | ctr (16)."""
    sec, nsec = divmod(ns, 10**9)
    subsec = (nsec << 16) // 10**9
    return ((sec & 0xFFFFFFFF) << 32) | (subsec << 16) | (ctr & 0xFFFF)


def csum(data):
    """RFC 1071 Internet checksum (odd length padded with a zero byte)."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip(a):
    return ipaddress.ip_address(a)


def message(version, vrid, prio, interval, vips):
    """VRRP message without trailer, checksum field zero."""
    if version == 2:
        hdr = struct.pack("!BBBBBBH", 0x21, vrid, prio, len(vips), 0, interval, 0)
        tail = bytes(8)  # v2 Authentication Data, Auth Type 0
    else:
        hdr = struct.pack("!BBBBHH", 0x31, vrid, prio, len(vips), interval & 0x0FFF, 0)
        tail = b""
    return hdr + b"".join(ip(v).packed for v in vips) + tail


def pseudo_header(version, vrid, src):
    """20 bytes: family (4|6), version, vrid, 0, source address zero padded to 16."""
    a = ip(src)
    return bytes([a.version, version, vrid, 0]) + a.packed + bytes(16 - len(a.packed))


def trailer_prefix(key_id, seq, ext_type=EXT_TYPE_HMAC_SHA256_128, reserved=0):
    return struct.pack("!BBHIHH", ext_type, key_id, reserved,
                       seq >> 32, (seq >> 16) & 0xFFFF, seq & 0xFFFF)


def hmac_input(msg, prefix, version, vrid, src, zero_checksum=True):
    m = bytearray(msg)
    if zero_checksum:
        m[6:8] = b"\0\0"
    return pseudo_header(version, vrid, src) + bytes(m) + prefix + bytes(HMAC_LEN)


def tag(key, data):
    return hmac.new(key, data, hashlib.sha256).digest()[:HMAC_LEN]


def vrrp_checksum(version, covered, src, dst, v3_ipv4_pseudo=True):
    """Checksum over `covered` (checksum field zero) per RFC 3768 / RFC 9568."""
    s, d = ip(src), ip(dst)
    if version == 2 or (s.version == 4 and not v3_ipv4_pseudo):
        ph = b""
    elif s.version == 4:
        ph = s.packed + d.packed + struct.pack("!BBH", 0, IPPROTO_VRRP, len(covered))
    else:
        ph = s.packed + d.packed + struct.pack("!I3xB", len(covered), IPPROTO_VRRP)
    return csum(ph + covered)


def signed_payload(version, vrid, prio, interval, vips, src, dst, key, key_id, seq,
                   v3_ipv4_pseudo=True):
    """Sign, then checksum: IPv4 over the message only, IPv6 over all of it."""
    msg = bytearray(message(version, vrid, prio, interval, vips))
    prefix = trailer_prefix(key_id, seq)
    data = hmac_input(bytes(msg), prefix, version, vrid, src)
    mac = tag(key, data)
    if ip(src).version == 4:
        msg[6:8] = struct.pack("!H", vrrp_checksum(version, bytes(msg), src, dst, v3_ipv4_pseudo))
        payload = bytes(msg) + prefix + mac
    else:
        payload = bytearray(bytes(msg) + prefix + mac)
        payload[6:8] = struct.pack("!H", vrrp_checksum(version, bytes(payload), src, dst))
        payload = bytes(payload)
    return msg, prefix, data, mac, payload


def vector(name, note, version, vrid, prio, interval, vips, src, dst, keys, key_id, seq,
           v3_ipv4_pseudo=True):
    key = keys[key_id]
    msg, prefix, data, mac, payload = signed_payload(
        version, vrid, prio, interval, vips, src, dst, key, key_id, seq, v3_ipv4_pseudo)
    mlen = len(msg)
    v = {
        "name": name,
        "origin": "baton (scripts/hmac-vectors.py)",
        "note": note,
        "inputs": {
            "vrrp_version": version,
            "family": "ipv%d" % ip(src).version,
            "vrid": vrid,
            "priority": prio,
            "interval": interval,
            "interval_unit": "s" if version == 2 else "cs",
            "vips": vips,
            "src": src,
            "dst": dst,
            "keys": {str(k): v.hex() for k, v in sorted(keys.items())},
            "key_id": key_id,
            "ext_type": EXT_TYPE_HMAC_SHA256_128,
            "sender_unix_ns": UNIX_NS,
            "seq_hex": "%016x" % seq,
            "v3_ipv4_checksum": ("pseudo_header" if v3_ipv4_pseudo else "no_pseudo_header")
            if (version == 3 and ip(src).version == 4) else None,
        },
        "message_len": mlen,
        "payload_len": len(payload),
        "pseudo_header_hex": pseudo_header(version, vrid, src).hex(),
        "hmac_input_hex": data.hex(),
        "trailer_hex": payload[mlen:].hex(),
        "checksum_hex": payload[6:8].hex(),
        "checksum_covers": "message (header+addresses%s), not the trailer"
        % (" + 8 auth bytes" if version == 2 else "") if ip(src).version == 4
        else "whole payload including the trailer",
        "payload_hex": payload.hex(),
        "hmac_hex": mac.hex(),
    }
    if ip(src).version == 4:
        # Rule of keepalived 2.4.0/2.4.1 (probably draft -00): checksum not zeroed.
        legacy = tag(key, hmac_input(bytes(msg), prefix, version, vrid, src, zero_checksum=False))
        v["hmac_hex_checksum_not_zeroed"] = legacy.hex()
    return v


def keepalived_appendix():
    """The wire images of keepalived test/auth_hmac_test.c (draft appendix)."""
    key = bytes(range(32))
    seq = 0x6800000080000000
    out, ok = [], True
    cases = [
        ("keepalived appendix IPv4", "3133c80100644402c0000264" "010100006800000080000000"
         "1b84bc4e8e43892dc6d98448f8ee2265", "198.51.100.10", "224.0.0.18", ["192.0.2.100"]),
        ("keepalived appendix IPv6", "3133c8010064a2e9" "fe800000000000000000000000000100"
         "010100006800000080000000" "c8c56146ebfd66ee10ec4d8186461b78",
         "fe80::10", "fe80::20", ["fe80::100"]),
    ]
    for name, hexstr, src, dst, vips in cases:
        want = bytes.fromhex(hexstr)
        # The IPv4 image carries a checksum without pseudo-header (ignored for IPv6).
        _, _, data, mac, payload = signed_payload(3, 51, 200, 100, vips, src, dst, key, 1, seq,
                                                  v3_ipv4_pseudo=False)
        match = payload == want
        ok &= match
        out.append({
            "name": name,
            "origin": "acassen/keepalived test/auth_hmac_test.c (commit d6bf2bed, 2026-07-13), "
                      "'the fixed vectors are the draft appendix images'",
            "note": "checksum: IPv4 image over the message only without pseudo-header (keepalived's "
                    "own default receive check, with pseudo-header, would reject it); IPv6 image "
                    "kernel-style over the whole payload for dst fe80::20",
            "inputs": {"vrrp_version": 3, "family": "ipv%d" % ip(src).version, "vrid": 51,
                       "priority": 200, "interval": 100, "interval_unit": "cs", "vips": vips,
                       "src": src, "dst": dst, "keys": {"1": key.hex()}, "key_id": 1,
                       "ext_type": 1, "seq_hex": "%016x" % seq,
                       "v3_ipv4_checksum": "no_pseudo_header" if ip(src).version == 4 else None},
            "hmac_input_hex": data.hex(),
            "payload_hex": want.hex(),
            "hmac_hex": want[-HMAC_LEN:].hex(),
            "reproduced_payload_hex": payload.hex(),
            "reproduced": match,
        })
    return out, ok


def main():
    seq = seq_from_unix_ns(UNIX_NS)
    one = {1: KEY1}
    two = {1: KEY1, 2: KEY2}
    vectors = [
        vector("v3_ipv4", "VRRPv3 IPv4 multicast, one key", 3, 51, 254, 100,
               ["192.0.2.3"], "192.0.2.11", "224.0.0.18", one, 1, seq),
        vector("v3_ipv4_unicast_copy", "same advert sent unicast: same trailer and HMAC, "
               "only the checksum differs (pseudo-header dst)", 3, 51, 254, 100,
               ["192.0.2.3"], "192.0.2.11", "192.0.2.12", one, 1, seq),
        vector("v2_ipv4", "VRRPv2 IPv4: Auth Type 0, 8 zero auth bytes, trailer after them "
               "(keepalived behaviour; draft -01 covers VRRPv3 only)", 2, 51, 254, 1,
               ["192.0.2.3"], "192.0.2.11", "224.0.0.18", one, 1, seq),
        vector("v3_ipv6", "VRRPv3 IPv6 multicast, one key", 3, 51, 254, 100,
               ["2001:db8::3"], "fe80::11", "ff02::12", one, 1, seq),
        vector("v3_ipv4_two_keys_id2", "keys 1 and 2 configured, active_key 2 signs", 3, 51,
               254, 100, ["192.0.2.3"], "192.0.2.11", "224.0.0.18", two, 2, seq),
        vector("v3_ipv4_seq_ctr1", "sender clock did not move: previous seq + 1 (ctr 1)", 3, 51,
               254, 100, ["192.0.2.3"], "192.0.2.11", "224.0.0.18", one, 1, seq + 1),
    ]
    appendix, ok = keepalived_appendix()
    doc = {
        "spec": "docs/auth-hmac.md",
        "generator": "scripts/hmac-vectors.py",
        "hmac": "HMAC-SHA256 truncated to the first 16 bytes",
        "hmac_input": "pseudo_header(20) || message with checksum read as 0 || "
                      "trailer[0..12] || 16 zero bytes",
        "vectors": vectors + appendix,
    }
    json.dump(doc, sys.stdout, indent=2)
    sys.stdout.write("\n")
    if not ok:
        sys.stderr.write("hmac-vectors: keepalived appendix images NOT reproduced\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
