#!/usr/bin/env python3
"""Turns captures into the SMB2 messages the codec tests load (see README.md).

    extract.py pcap CAPTURE.pcap OUTDIR   one .bin per SMB2 message of the capture
    extract.py hex PACKETS.hex OUTDIR     one .bin per packet of a hex transcription
    extract.py session-key DIR PASSWORD   the NTLMv2 session key of DIR's SESSION_SETUP

For a capture (classic libpcap, Ethernet/Linux-cooked/raw IPv4 link layers), every
TCP stream to or from port 445 is reassembled by sequence number, cut at the Direct
TCP framing (MS-SMB2 2.1: a zero byte and a 24-bit length, stripped here), and each
message written as NN-command-request.bin or NN-command-response.bin, NN counting the
connection's messages in exchange order. A compound payload is written whole (tests
split it). If the capture holds several connections (something else talked to the
server meanwhile), each goes to its own OUTDIR-N, in order of their first packet.

A hex transcription is a text file of `name` lines, each followed by the packet in
hex (any number of lines); blank lines and lines starting with # are skipped. Each
packet becomes name.bin.

For a directory of extracted messages whose session was set up with NTLMSSP, the
session key (MS-NLMP 3.3.2 and 3.4.5.1: NTOWFv2, SessionBaseKey, then the
EncryptedRandomSessionKey opened with RC4 under it) is printed in hex, after checking
that PASSWORD reproduces the client's NTProofStr. SMB signs with its first 16 bytes.

Standard library only (hashlib has no MD4 under OpenSSL 3, so MD4 and RC4 are here).
"""

import os
import struct
import sys

COMMANDS = [
    "negotiate", "session-setup", "logoff", "tree-connect", "tree-disconnect",
    "create", "close", "flush", "read", "write", "lock", "ioctl", "cancel", "echo",
    "query-directory", "change-notify", "query-info", "set-info", "oplock-break",
]


def packets(path):
    """Yields (timestamp, link type, frame) for each record of a libpcap file."""
    with open(path, "rb") as f:
        data = f.read()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        sys.exit(f"{path}: not a libpcap file (pcapng? capture with dumpcap -P)")
    link = struct.unpack(endian + "I", data[20:24])[0]
    at = 24
    while at + 16 <= len(data):
        sec, frac, caplen, _ = struct.unpack(endian + "IIII", data[at:at + 16])
        yield (sec, frac), link, data[at + 16:at + 16 + caplen]
        at += 16 + caplen


def ipv4(link, frame):
    """The IPv4 packet inside a frame, or None."""
    if link == 1:  # Ethernet
        ethertype, at = struct.unpack(">H", frame[12:14])[0], 14
        if ethertype == 0x8100:
            ethertype, at = struct.unpack(">H", frame[16:18])[0], 18
    elif link == 113:  # Linux cooked (SLL)
        ethertype, at = struct.unpack(">H", frame[14:16])[0], 16
    elif link == 276:  # Linux cooked v2 (SLL2)
        ethertype, at = struct.unpack(">H", frame[0:2])[0], 20
    elif link in (101, 228):  # raw IP
        ethertype, at = 0x0800, 0
    elif link == 0:  # BSD loopback
        ethertype, at = (0x0800 if frame[0] == 2 or frame[3] == 2 else 0), 4
    else:
        sys.exit(f"unsupported link type {link}")
    return frame[at:] if ethertype == 0x0800 else None


def streams(path):
    """Reassembled TCP payloads per direction, keyed by (src, sport, dst, dport),
    in order of first appearance."""
    segments = {}
    for _, link, frame in packets(path):
        ip = ipv4(link, frame)
        if ip is None or ip[9] != 6:
            continue
        ihl = (ip[0] & 0x0F) * 4
        total = struct.unpack(">H", ip[2:4])[0]
        tcp = ip[ihl:total]
        sport, dport, seq = struct.unpack(">HHI", tcp[:8])
        if 445 not in (sport, dport):
            continue
        payload = tcp[(tcp[12] >> 4) * 4:]
        key = (ip[12:16], sport, ip[16:20], dport)
        segs = segments.setdefault(key, {})
        if payload and seq not in segs:  # first copy wins over retransmissions
            segs[seq] = payload
    out = {}
    for key, segs in segments.items():
        if not segs:
            continue
        data = bytearray()
        start = min(segs)
        for seq in sorted(segs):
            offset = (seq - start) & 0xFFFFFFFF
            if offset > len(data):
                sys.exit(f"{path}: a TCP segment is missing from the capture")
            data[offset:offset + len(segs[seq])] = segs[seq]
        out[key] = bytes(data)
    return out


def connections(path):
    """The reassembled directions of each TCP connection, in order of first packet."""
    conns = {}
    for (src, sport, dst, dport), data in streams(path).items():
        conn = tuple(sorted([(src, sport), (dst, dport)]))
        conns.setdefault(conn, []).append(data)
    return list(conns.values())


def messages(stream):
    """Splits a reassembled stream at its Direct TCP frames; yields the messages."""
    at = 0
    while at + 4 <= len(stream):
        if stream[at] != 0:
            sys.exit("not Direct TCP framing")
        n = int.from_bytes(stream[at + 1:at + 4], "big")
        yield stream[at + 4:at + 4 + n]
        at += 4 + n


def name(msg):
    command = struct.unpack("<H", msg[12:14])[0]
    flags = struct.unpack("<I", msg[16:20])[0]
    what = COMMANDS[command] if command < len(COMMANDS) else f"command-{command:#x}"
    return f"{what}-{'response' if flags & 1 else 'request'}"


def from_pcap(path, outdir):
    conns = [c for c in connections(path) if any(d[4:8] == b"\xfeSMB" for d in c)]
    for n, directions in enumerate(conns, 1):
        found = []
        for data in directions:
            found.extend(m for m in messages(data) if m[:4] == b"\xfeSMB")
        # Order by MessageId, then requests before responses: exchange order across
        # the two directions of one connection.
        found.sort(key=lambda m: (struct.unpack("<Q", m[24:32])[0], m[16] & 1))
        out = outdir if len(conns) == 1 else f"{outdir}-{n}"
        os.makedirs(out, exist_ok=True)
        for i, msg in enumerate(found):
            write(os.path.join(out, f"{i:02}-{name(msg)}.bin"), msg)
    if len(conns) > 1:
        print(f"{path}: {len(conns)} connections, in {outdir}-1 to -{len(conns)}")


def from_hex(path, outdir):
    packets, current = {}, None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if all(c in "0123456789abcdefABCDEF" for c in line) and current:
                packets[current] += line
            else:
                current = line
                packets[current] = ""
    os.makedirs(outdir, exist_ok=True)
    for key, hexdata in packets.items():
        write(os.path.join(outdir, f"{key}.bin"), bytes.fromhex(hexdata))


def md4(data):
    """RFC 1320 MD4."""
    mask = 0xFFFFFFFF

    def rotl(x, n):
        return ((x << n) | (x >> (32 - n))) & mask

    msg = data + b"\x80" + b"\0" * ((55 - len(data)) % 64) + struct.pack("<Q", len(data) * 8)
    h = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476]
    for block in range(0, len(msg), 64):
        x = struct.unpack("<16I", msg[block:block + 64])
        a, b, c, d = h
        for i in range(16):
            k, s = i, (3, 7, 11, 19)[i % 4]
            a, b, c, d = d, rotl((a + ((b & c) | (~b & d)) + x[k]) & mask, s), b, c
        for i in range(16):
            k, s = (i % 4) * 4 + i // 4, (3, 5, 9, 13)[i % 4]
            f = (b & c) | (b & d) | (c & d)
            a, b, c, d = d, rotl((a + f + x[k] + 0x5A827999) & mask, s), b, c
        for i in range(16):
            k = (0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15)[i]
            s = (3, 9, 11, 15)[i % 4]
            a, b, c, d = d, rotl((a + (b ^ c ^ d) + x[k] + 0x6ED9EBA1) & mask, s), b, c
        h = [(v + w) & mask for v, w in zip(h, (a, b, c, d))]
    return struct.pack("<4I", *h)


def rc4(key, data):
    s, j = list(range(256)), 0
    for i in range(256):
        j = (j + s[i] + key[i % len(key)]) % 256
        s[i], s[j] = s[j], s[i]
    out, i, j = bytearray(), 0, 0
    for byte in data:
        i = (i + 1) % 256
        j = (j + s[i]) % 256
        s[i], s[j] = s[j], s[i]
        out.append(byte ^ s[(s[i] + s[j]) % 256])
    return bytes(out)


def ntlm_message(msg, kind):
    at = msg.find(b"NTLMSSP\0" + struct.pack("<I", kind))
    if at < 0:
        sys.exit(f"no NTLMSSP message of type {kind}")
    return msg[at:]


def field(ntlm, at):
    length, _, offset = struct.unpack("<HHI", ntlm[at:at + 8])
    return ntlm[offset:offset + length]


def session_key(directory, password):
    import hmac

    files = sorted(f for f in os.listdir(directory) if "session-setup" in f)
    read = lambda f: open(os.path.join(directory, f), "rb").read()
    challenge = ntlm_message(read(files[1]), 2)[24:32]
    auth = ntlm_message(read(files[2]), 3)
    nt_response = field(auth, 20)
    domain, user = field(auth, 28), field(auth, 36)
    flags = struct.unpack("<I", auth[60:64])[0]
    nt_hash = md4(password.encode("utf-16-le"))
    user_dom = user.decode("utf-16-le").upper().encode("utf-16-le") + domain
    key = hmac.new(nt_hash, user_dom, "md5").digest()
    proof = hmac.new(key, challenge + nt_response[16:], "md5").digest()
    if proof != nt_response[:16]:
        sys.exit("the password does not reproduce the NTProofStr")
    base = hmac.new(key, proof, "md5").digest()
    if flags & 0x40000000:  # NTLMSSP_NEGOTIATE_KEY_EXCH
        base = rc4(base, field(auth, 52))
    print(base.hex())


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)
    print(f"{path}: {len(data)} bytes")


if __name__ == "__main__":
    commands = {"pcap": from_pcap, "hex": from_hex, "session-key": session_key}
    if len(sys.argv) != 4 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    commands[sys.argv[1]](sys.argv[2], sys.argv[3])
