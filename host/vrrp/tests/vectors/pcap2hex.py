#!/usr/bin/env python3
"""Turn tcpdump captures of keepalived VRRP adverts into text test vectors.

Standard library only.  The pcap parser and the VRRP decoder are written
from the file-format / RFC descriptions (RFC 3768, RFC 5798) and are
deliberately independent of the Rust codec in host/vrrp.

Sub-commands (used by capture.sh, handy by hand too):

  count PCAP
      print how many VRRP packets (IP protocol 112) the capture holds.
  extract PCAP OUT.hex --which advert|prio0 [--comment TEXT ...]
      write the first VRRP packet with priority != 0 (advert) or == 0
      (prio0) as a hex vector: the full IP packet, link layer stripped.
  decode FILE.hex ...
      print a human-readable decode of vectors.
  toml OUT.toml FILE.hex ...
      write the expected decoded fields of the vectors as TOML.

Vector format: lowercase hex, whitespace ignored, lines starting with '#'
are comments.  One packet per file.
"""

import argparse
import ipaddress
import struct
import sys
from pathlib import Path

VRRP_PROTO = 112

# ---------------------------------------------------------------- pcap ----

LINKTYPE_ETHERNET = 1
LINKTYPE_LINUX_SLL = 113
LINKTYPE_LINUX_SLL2 = 276


def read_pcap(path):
    """Yield (linktype, frame bytes) for each record of a classic pcap file."""
    data = Path(path).read_bytes()
    if len(data) < 24:
        return
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        raise SystemExit(f"{path}: not a classic pcap file (pcapng unsupported)")
    _vmaj, _vmin, _tz, _sig, _snap, linktype = struct.unpack(endian + "HHiIII", data[4:24])
    off = 24
    while off + 16 <= len(data):
        _sec, _frac, incl, _orig = struct.unpack(endian + "IIII", data[off:off + 16])
        off += 16
        frame = data[off:off + incl]
        off += incl
        if len(frame) < incl:  # truncated trailing record (capture still running)
            break
        yield linktype, frame


def strip_link_layer(linktype, frame):
    """Return the network-layer packet, or None if it is neither IPv4 nor IPv6."""
    if linktype == LINKTYPE_ETHERNET:
        ethertype = struct.unpack("!H", frame[12:14])[0]
        off = 14
        while ethertype in (0x8100, 0x88A8):  # VLAN tags
            ethertype = struct.unpack("!H", frame[off + 2:off + 4])[0]
            off += 4
    elif linktype == LINKTYPE_LINUX_SLL:
        ethertype = struct.unpack("!H", frame[14:16])[0]
        off = 16
    elif linktype == LINKTYPE_LINUX_SLL2:
        ethertype = struct.unpack("!H", frame[0:2])[0]
        off = 20
    else:
        raise SystemExit(f"unsupported pcap link type {linktype}")
    if ethertype not in (0x0800, 0x86DD):
        return None
    return frame[off:]


def vrrp_packets(pcap):
    for linktype, frame in read_pcap(pcap):
        pkt = strip_link_layer(linktype, frame)
        if pkt is None:
            continue
        try:
            d = decode(pkt)
        except ValueError:
            continue
        if d is not None:
            yield pkt, d


# ------------------------------------------------------------ checksum ----

def ones_sum(data):
    if len(data) % 2:
        data += b"\x00"
    s = 0
    for (w,) in struct.iter_unpack("!H", data):
        s += w
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def inet_checksum(data):
    return (~ones_sum(data)) & 0xFFFF


# -------------------------------------------------------------- decode ----

def decode(pkt):
    """Decode an IP packet carrying VRRP.  Returns a dict or None (not VRRP)."""
    d = {}
    ver = pkt[0] >> 4
    if ver == 4:
        ihl = (pkt[0] & 0x0F) * 4
        if ihl < 20 or len(pkt) < ihl:
            raise ValueError("bad IHL")
        total_len, ip_id, _frag, ttl, proto, hcsum = struct.unpack("!HHHBBH", pkt[2:12])
        if proto != VRRP_PROTO:
            return None
        src = ipaddress.IPv4Address(pkt[12:16])
        dst = ipaddress.IPv4Address(pkt[16:20])
        d.update(ip_version=4, tos=pkt[1], ip_header_len=ihl, ip_total_length=total_len,
                 ip_id=ip_id, ttl=ttl, ip_header_checksum=hcsum,
                 ip_header_checksum_ok=inet_checksum(pkt[:ihl]) == 0,
                 ip_options=pkt[20:ihl].hex())
        payload = pkt[ihl:total_len]
        pseudo = pkt[12:20] + struct.pack("!BBH", 0, VRRP_PROTO, len(payload))
    elif ver == 6:
        plen, nxt, hlim = struct.unpack("!HBB", pkt[4:8])
        if nxt != VRRP_PROTO:
            return None
        src = ipaddress.IPv6Address(pkt[8:24])
        dst = ipaddress.IPv6Address(pkt[24:40])
        vtcfl = struct.unpack("!I", pkt[0:4])[0]
        d.update(ip_version=6, traffic_class=(vtcfl >> 20) & 0xFF,
                 flow_label=vtcfl & 0xFFFFF, ip_payload_length=plen, ttl=hlim)
        payload = pkt[40:40 + plen]
        pseudo = pkt[8:40] + struct.pack("!IxxxB", len(payload), VRRP_PROTO)
    else:
        raise ValueError("not IP")
    d.update(src=str(src), dst=str(dst), vrrp_length=len(payload))

    if len(payload) < 8:
        raise ValueError("short VRRP")
    vt = payload[0]
    vver, vtype = vt >> 4, vt & 0x0F
    vrid, prio, count = payload[1], payload[2], payload[3]
    d.update(vrrp_version=vver, type=vtype, vrid=vrid, priority=prio)
    csum = struct.unpack("!H", payload[6:8])[0]
    d["checksum"] = csum
    addr_len = 4 if ver == 4 else 16
    addrs_off = 8
    if vver == 2:
        d["count_ip"] = count
        d["auth_type"] = payload[4]
        d["adver_int"] = payload[5]
        addrs_end = addrs_off + count * addr_len
        auth = payload[addrs_end:addrs_end + 8]
        d["auth_data_hex"] = auth.hex()
        d["auth_data"] = auth.decode("latin-1")
        d["checksum_ok"] = inet_checksum(payload) == 0
    elif vver == 3:
        d["count_addr"] = count
        word = struct.unpack("!H", payload[4:6])[0]
        d["rsvd"] = word >> 12
        d["max_adver_int"] = word & 0x0FFF
        addrs_end = addrs_off + count * addr_len
        with_ph = inet_checksum(pseudo + payload) == 0
        without_ph = inet_checksum(payload) == 0
        d["checksum_ok"] = with_ph or without_ph
        d["v3_pseudo_header"] = with_ph
        d["checksum_ok_without_pseudo_header"] = without_ph
        # what the checksum would be each way (field zeroed)
        zeroed = payload[:6] + b"\x00\x00" + payload[8:]
        d["checksum_with_pseudo_header"] = inet_checksum(pseudo + zeroed)
        d["checksum_without_pseudo_header"] = inet_checksum(zeroed)
    else:
        raise ValueError(f"VRRP version {vver}")
    cls = ipaddress.IPv4Address if ver == 4 else ipaddress.IPv6Address
    d["addresses"] = [str(cls(payload[i:i + addr_len]))
                      for i in range(addrs_off, addrs_end, addr_len)]
    d["trailing_bytes"] = len(payload) - (addrs_end + (8 if vver == 2 else 0))
    return d


# ------------------------------------------------------------- vectors ----

def read_hex(path):
    text = "".join(line for line in Path(path).read_text().splitlines()
                   if not line.lstrip().startswith("#"))
    return bytes.fromhex("".join(text.split()))


def write_hex(path, pkt, comments):
    lines = [f"# {c}" if c else "#" for c in comments]
    for i in range(0, len(pkt), 16):
        chunk = pkt[i:i + 16]
        lines.append(" ".join(chunk[j:j + 2].hex() for j in range(0, len(chunk), 2)))
    Path(path).write_text("\n".join(lines) + "\n")


def fmt_decode(name, d):
    out = [f"== {name}"]
    for k, v in d.items():
        if k in ("tos", "traffic_class", "flow_label", "checksum", "ip_header_checksum", "checksum_with_pseudo_header",
                 "checksum_without_pseudo_header"):
            v = f"0x{v:04x}"
        out.append(f"  {k:34} {v}")
    return "\n".join(out)


def cmd_count(a):
    print(sum(1 for _ in vrrp_packets(a.pcap)))


def cmd_extract(a):
    pkts = list(vrrp_packets(a.pcap))
    want_zero = a.which == "prio0"
    sel = [(p, d) for p, d in pkts if (d["priority"] == 0) == want_zero]
    if not sel:
        raise SystemExit(f"{a.pcap}: no {a.which} packet among {len(pkts)} VRRP packets")
    pkt, d = sel[0]
    # Report whether repeated adverts differ (e.g. IPv4 ID) - for the notes.
    variants = {bytes(p[:4]) + bytes(p[6:10]) + bytes(p[12:]) if d["ip_version"] == 4 else p
                for p, _ in sel}
    exact = {p for p, _ in sel}
    print(f"{a.out}: {len(sel)} {a.which} packet(s) captured, "
          f"{len(exact)} distinct, {len(variants)} distinct ignoring IPv4 id/hdr-checksum; "
          f"ip ids: {[dd.get('ip_id') for _, dd in sel]}", file=sys.stderr)
    if not d["checksum_ok"]:
        raise SystemExit(f"{a.out}: VRRP checksum does not verify")
    write_hex(a.out, pkt, a.comment or [])


def cmd_decode(a):
    for f in a.files:
        print(fmt_decode(f, decode(read_hex(f))))


def toml_str(s):
    out = []
    for ch in s:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def cmd_toml(a):
    lines = [
        "# Expected decode of the keepalived captures in this directory.",
        "# Generated by pcap2hex.py (independent stdlib decoder) from the .hex",
        "# files; regenerate with capture.sh.  Values were also checked by hand.",
        "#",
        "# checksum: the VRRP checksum field as sent.  vrrp_length: bytes of the",
        "# VRRP message (IP payload).  max_adver_int is in centiseconds (v3),",
        "# adver_int in seconds (v2).  auth_data (v2): the 8 authentication octets,",
        "# NUL padded; auth_data_hex is the same as hex.  v3_pseudo_header: true",
        "# when the v3 checksum verifies only with the IP pseudo-header included.",
        "# ttl is the IPv6 hop limit for IPv6.  tos / traffic_class: the IP",
        "# TOS / traffic-class octet (keepalived sends 0xc0, precedence 6).",
        "# flow_label: 0 only because capture.sh sets net.ipv6.auto_flowlabels=0.",
        "",
    ]
    for f in a.files:
        d = decode(read_hex(f))
        assert d["checksum_ok"], f
        if d["ip_version"] == 4:
            assert d["ip_header_checksum_ok"], f
        lines.append("[[vector]]")
        kv = [("file", toml_str(Path(f).name)),
              ("ip_version", d["ip_version"]),
              ("src", toml_str(d["src"])),
              ("dst", toml_str(d["dst"])),
              ("ttl", d["ttl"]),
              ("vrrp_version", d["vrrp_version"]),
              ("type", d["type"]),
              ("vrid", d["vrid"]),
              ("priority", d["priority"])]
        if d["vrrp_version"] == 2:
            kv += [("count_ip", d["count_ip"]),
                   ("auth_type", d["auth_type"]),
                   ("adver_int", d["adver_int"]),
                   ("checksum", f"0x{d['checksum']:04x}"),
                   ("auth_data", toml_str(d["auth_data"])),
                   ("auth_data_hex", toml_str(d["auth_data_hex"]))]
        else:
            kv += [("count_addr", d["count_addr"]),
                   ("max_adver_int", d["max_adver_int"]),
                   ("checksum", f"0x{d['checksum']:04x}")]
            if d["ip_version"] == 4:
                kv.append(("v3_pseudo_header", str(d["v3_pseudo_header"]).lower()))
        kv.append(("addresses", "[" + ", ".join(toml_str(x) for x in d["addresses"]) + "]"))
        kv.append(("vrrp_length", d["vrrp_length"]))
        if d["ip_version"] == 4:
            kv += [("ip_total_length", d["ip_total_length"]),
                   ("tos", f"0x{d['tos']:02x}")]
        else:
            kv += [("ip_payload_length", d["ip_payload_length"]),
                   ("traffic_class", f"0x{d['traffic_class']:02x}"),
                   ("flow_label", f"0x{d['flow_label']:05x}")]
        lines += [f"{k} = {v}" for k, v in kv]
        lines.append("")
    Path(a.out).write_text("\n".join(lines))


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("count"); p.add_argument("pcap"); p.set_defaults(fn=cmd_count)
    p = sub.add_parser("extract"); p.add_argument("pcap"); p.add_argument("out")
    p.add_argument("--which", choices=["advert", "prio0"], default="advert")
    p.add_argument("--comment", action="append")
    p.set_defaults(fn=cmd_extract)
    p = sub.add_parser("decode"); p.add_argument("files", nargs="+"); p.set_defaults(fn=cmd_decode)
    p = sub.add_parser("toml"); p.add_argument("out"); p.add_argument("files", nargs="+")
    p.set_defaults(fn=cmd_toml)
    a = ap.parse_args()
    a.fn(a)


if __name__ == "__main__":
    main()
