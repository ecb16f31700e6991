#!/usr/bin/python3
"""Drive NTLMv2 network logons through winbindd's pass-through, as fast as honestly possible.

Used by tools/bench/winbind/member.sh bench; it can be run by hand too.

Each worker owns one long-lived `ntlm_auth --helper-protocol=ntlm-server-1` process (the
helper FreeRADIUS and others use). For every logon the worker makes up a fresh random 8-byte
server challenge, computes alice's NTLMv2 response to it here (as a client would), and hands
challenge + response to the helper, which asks winbindd (WINBINDD_PAM_AUTH_CRAP), which sends
a NETLOGON NetrLogonSamLogonEx network logon over its schannel to the DC. Because every
challenge is new, nothing can be answered from a cache: each "Authenticated: Yes" is a
verification by the DC.

Standard library only (the NT hash needs MD4, which OpenSSL 3 no longer offers, so it is
computed with a small MD4 below, once per run).
"""

import argparse
import hashlib
import hmac
import json
import os
import platform
import resource
import struct
import subprocess
import sys
import threading
import time


def md4(data: bytes) -> bytes:
    """RFC 1320 MD4 (only used once, for the NT hash of the password)."""
    def f(x, y, z): return (x & y) | (~x & z)
    def g(x, y, z): return (x & y) | (x & z) | (y & z)
    def h(x, y, z): return x ^ y ^ z
    def rotl(v, s):
        v &= 0xFFFFFFFF
        return ((v << s) | (v >> (32 - s))) & 0xFFFFFFFF

    msg = bytearray(data)
    bitlen = (8 * len(data)) & 0xFFFFFFFFFFFFFFFF
    msg.append(0x80)
    while len(msg) % 64 != 56:
        msg.append(0)
    msg += struct.pack('<Q', bitlen)
    a, b, c, d = 0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476
    for off in range(0, len(msg), 64):
        x = struct.unpack('<16I', msg[off:off + 64])
        aa, bb, cc, dd = a, b, c, d
        for i in (0, 4, 8, 12):
            a = rotl(a + f(b, c, d) + x[i], 3)
            d = rotl(d + f(a, b, c) + x[i + 1], 7)
            c = rotl(c + f(d, a, b) + x[i + 2], 11)
            b = rotl(b + f(c, d, a) + x[i + 3], 19)
        for i in (0, 1, 2, 3):
            a = rotl(a + g(b, c, d) + x[i] + 0x5A827999, 3)
            d = rotl(d + g(a, b, c) + x[i + 4] + 0x5A827999, 5)
            c = rotl(c + g(d, a, b) + x[i + 8] + 0x5A827999, 9)
            b = rotl(b + g(c, d, a) + x[i + 12] + 0x5A827999, 13)
        for i in (0, 2, 1, 3):
            a = rotl(a + h(b, c, d) + x[i] + 0x6ED9EBA1, 3)
            d = rotl(d + h(a, b, c) + x[i + 8] + 0x6ED9EBA1, 9)
            c = rotl(c + h(d, a, b) + x[i + 4] + 0x6ED9EBA1, 11)
            b = rotl(b + h(c, d, a) + x[i + 12] + 0x6ED9EBA1, 15)
        a = (a + aa) & 0xFFFFFFFF
        b = (b + bb) & 0xFFFFFFFF
        c = (c + cc) & 0xFFFFFFFF
        d = (d + dd) & 0xFFFFFFFF
    return struct.pack('<4I', a, b, c, d)


assert md4(b'abc').hex() == 'a448017aaf21d8525fc10ae87aa6729d', 'MD4 self-test failed'


def av_pair(av_id: int, value: bytes) -> bytes:
    return struct.pack('<HH', av_id, len(value)) + value


class Ntlmv2Client:
    """Computes NTLMv2 (and LMv2) responses for one user, as an NTLMSSP client does [MS-NLMP 3.3.2]."""

    def __init__(self, user: str, domain: str, password: str, server: str, dns_domain: str):
        self.user, self.domain = user, domain
        nt_hash = md4(password.encode('utf-16-le'))
        ident = (user.upper() + domain).encode('utf-16-le')
        self.ntowfv2 = hmac.new(nt_hash, ident, hashlib.md5).digest()
        # Target info as the member server would have put it in its CHALLENGE message.
        self.target_info = (av_pair(2, domain.encode('utf-16-le'))
                            + av_pair(1, server.encode('utf-16-le'))
                            + av_pair(4, dns_domain.encode('utf-16-le'))
                            + av_pair(3, (server.lower() + '.' + dns_domain).encode('utf-16-le'))
                            + av_pair(0, b''))

    def respond(self, server_challenge: bytes):
        client_challenge = os.urandom(8)
        # FILETIME: 100 ns ticks since 1601-01-01.
        timestamp = struct.pack('<Q', int(time.time() * 10_000_000) + 116444736000000000)
        blob = (b'\x01\x01\x00\x00' + b'\x00' * 4 + timestamp + client_challenge
                + b'\x00' * 4 + self.target_info + b'\x00' * 4)
        proof = hmac.new(self.ntowfv2, server_challenge + blob, hashlib.md5).digest()
        lmv2 = hmac.new(self.ntowfv2, server_challenge + client_challenge, hashlib.md5).digest()
        return proof + blob, lmv2 + client_challenge


class Helper:
    """One long-lived `ntlm_auth --helper-protocol=ntlm-server-1` process."""

    def __init__(self, argv, env):
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=env, bufsize=0)
        self.out = self.proc.stdout

    def logon(self, user, domain, challenge, nt_response, lm_response):
        req = (f'Username: {user}\nNT-Domain: {domain}\n'
               f'LANMAN-Challenge: {challenge.hex()}\n'
               f'NT-Response: {nt_response.hex()}\n'
               f'LANMAN-Response: {lm_response.hex()}\n.\n').encode()
        self.proc.stdin.write(req)
        fields = {}
        while True:
            line = self.out.readline()
            if not line:
                err = self.proc.stderr.read().decode(errors='replace').strip()
                raise RuntimeError(f'ntlm_auth exited (status {self.proc.wait()}): {err}')
            line = line.decode(errors='replace').rstrip('\n')
            if line == '.':
                break
            key, _, value = line.partition(': ')
            fields[key] = value
        return fields

    def close(self):
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def describe(fields):
    err = fields.get('Authentication-Error') or fields.get('Error') or ''
    return f"Authenticated: {fields.get('Authenticated', '?')} {err}".strip()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--user', required=True)
    ap.add_argument('--domain', required=True, help='NetBIOS domain, e.g. EXAMPLE')
    ap.add_argument('--password-env', required=True, help='name of the variable holding the password')
    ap.add_argument('--count', type=int, default=1000)
    ap.add_argument('--concurrency', type=int, default=1)
    ap.add_argument('--conf', required=True, help="the member's smb.conf")
    ap.add_argument('--server', default='WBREF', help="the member's NetBIOS name (for target info)")
    ap.add_argument('--dns-domain', default='example.test')
    ap.add_argument('--ntlm-auth', default='ntlm_auth')
    ap.add_argument('--json', action='store_true')
    ap.add_argument('--meta', action='append', default=[], metavar='KEY=VALUE',
                    help='extra field for the JSON object (repeatable)')
    a = ap.parse_args()

    def fail(msg):
        print(f'winbind bench: error: {msg}', file=sys.stderr)
        sys.exit(1)

    if a.count < 1 or a.concurrency < 1:
        fail('--count and --concurrency must be at least 1')
    password = os.environ.get(a.password_env)
    if not password:
        fail(f'${a.password_env} is empty or unset')

    argv = [a.ntlm_auth, f'--configfile={a.conf}', '--helper-protocol=ntlm-server-1']
    good = Ntlmv2Client(a.user, a.domain, password, a.server, a.dns_domain)
    bad = Ntlmv2Client(a.user, a.domain, password + '-wrong', a.server, a.dns_domain)
    concurrency = min(a.concurrency, a.count)
    meta = dict(m.split('=', 1) for m in a.meta if '=' in m)
    load_before = os.getloadavg()[0]
    if load_before > (os.cpu_count() or 1) / 2:
        print(f'winbind bench: note: load average {load_before:.2f} on {os.cpu_count()} CPUs '
              'before the run; other work on this machine lowers the figure', file=sys.stderr)

    helpers = [Helper(argv, os.environ.copy()) for _ in range(concurrency)]
    try:
        # Honesty checks, untimed: the right password is accepted, a wrong one is refused by
        # the DC (so the timed loop measures real verification, not a cache or a stub).
        ch = os.urandom(8)
        r = helpers[0].logon(a.user, a.domain, ch, *good.respond(ch))
        if r.get('Authenticated') != 'Yes':
            fail(f'the first logon of {a.domain}\\{a.user} failed: {describe(r)}')
        # A throwaway helper: after a refusal ntlm_auth 4.17 writes an extra "." line, which
        # would desynchronise the request/response stream of a helper we keep using.
        probe = Helper(argv, os.environ.copy())
        try:
            ch = os.urandom(8)
            r = probe.logon(a.user, a.domain, ch, *bad.respond(ch))
        finally:
            probe.close()
        if r.get('Authenticated') != 'No':
            fail(f'a logon with a wrong password was not refused: {describe(r)}')
        refusal = describe(r)
        # Warm every helper's connection to winbindd (process start is not what we measure).
        for hp in helpers[1:]:
            ch = os.urandom(8)
            r = hp.logon(a.user, a.domain, ch, *good.respond(ch))
            if r.get('Authenticated') != 'Yes':
                fail(f'warm-up logon failed: {describe(r)}')

        lock = threading.Lock()
        state = {'next': 0, 'ok': 0, 'failed': 0, 'first_error': None}
        latencies = []
        start = threading.Barrier(concurrency + 1)

        def worker(hp):
            lat = []
            start.wait()
            while True:
                with lock:
                    if state['next'] >= a.count:
                        break
                    state['next'] += 1
                ch = os.urandom(8)
                nt, lm = good.respond(ch)
                t0 = time.perf_counter()
                try:
                    r = hp.logon(a.user, a.domain, ch, nt, lm)
                except Exception as e:  # helper died
                    r = {'Authenticated': 'No', 'Error': str(e)}
                lat.append(time.perf_counter() - t0)
                if r.get('Authenticated') == 'Yes':
                    with lock:
                        state['ok'] += 1
                    continue
                with lock:
                    state['failed'] += 1
                    state['first_error'] = state['first_error'] or describe(r)
                # The helper's stream is out of step after a refusal: stop this worker.
                break
            with lock:
                latencies.extend(lat)

        threads = [threading.Thread(target=worker, args=(hp,), daemon=True) for hp in helpers]
        for t in threads:
            t.start()
        start.wait()
        t0 = time.perf_counter()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - t0
    finally:
        for hp in helpers:
            hp.close()

    if state['failed'] or state['ok'] != a.count:
        fail(f"{a.count - state['ok']} of {a.count} logons failed or were not run; "
             f"first failure: {state['first_error']}")
    latencies.sort()
    ru_self = resource.getrusage(resource.RUSAGE_SELF)
    ru_kids = resource.getrusage(resource.RUSAGE_CHILDREN)

    def pct(p):
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    rate = a.count / elapsed
    if a.json:
        print(json.dumps({
            'bench': 'winbind-ntlm-passthrough',
            'driver': 'ntlm_auth --helper-protocol=ntlm-server-1 (NTLMv2 challenge/response)',
            'user': f'{a.domain}\\{a.user}',
            'logons': a.count,
            'concurrency': concurrency,
            'seconds': round(elapsed, 4),
            'logons_per_second': round(rate, 1),
            'latency_ms': {'p50': round(pct(0.50), 3), 'p90': round(pct(0.90), 3),
                           'p99': round(pct(0.99), 3), 'max': round(latencies[-1] * 1000, 3)},
            'wrong_password_check': refusal,
            # Whole-process CPU of this side of the socket (set-up and checks included).
            'client_cpu_seconds': {
                'driver': round(ru_self.ru_utime + ru_self.ru_stime, 3),
                'ntlm_auth_helpers': round(ru_kids.ru_utime + ru_kids.ru_stime, 3)},
            'cpus': os.cpu_count(),
            'load_average_before': round(load_before, 2),
            **meta,
            'host': platform.node(),
        }))
    else:
        print(f'winbind: {a.count} logons in {elapsed:.3f} s = {rate:.1f} logons/s '
              f'(concurrency {concurrency})')


if __name__ == '__main__':
    try:
        main()
    except (RuntimeError, OSError) as e:
        print(f'winbind bench: error: {e}', file=sys.stderr)
        sys.exit(1)
