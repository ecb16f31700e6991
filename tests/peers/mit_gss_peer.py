#!/usr/bin/python3
"""MIT's GSS-API (libgssapi_krb5, through Debian's python3-gssapi) as a peer for Adjoin's
interop tests (tests/tests/gss_interop.rs). It runs as a child process so each side gets
its own KRB5_CONFIG, KRB5CCNAME and KRB5_KTNAME. Tokens travel as hex lines on stdin and
stdout.

    mit_gss_peer.py initiate SERVICE@HOST [krb5|spnego]
    mit_gss_peer.py accept [krb5|spnego]

Establishment: each time the peer produces a token it prints it (or "-" for none), then
"DONE" when its context is complete or "MORE" when it waits for another token. Then the
initiator prints a sealed wrap of "from mit", reads a wrap token and prints `MSG <text>`;
the acceptor reads a wrap token, prints `MSG <text>`, prints a sealed wrap of "from mit"
and `CLIENT <name>` of the authenticated client. Any GSS failure ends it with status 1 and
MIT's message on stderr.
"""
import sys

import gssapi

KRB5 = gssapi.MechType.kerberos
SPNEGO = gssapi.OID.from_int_seq("1.3.6.1.5.5.2")
FLAGS = [
    gssapi.RequirementFlag.mutual_authentication,
    gssapi.RequirementFlag.out_of_sequence_detection,
    gssapi.RequirementFlag.confidentiality,
    gssapi.RequirementFlag.integrity,
]


def mech(arg):
    if arg in (None, "krb5"):
        return KRB5
    if arg == "spnego":
        return SPNEGO
    sys.exit("unknown mechanism %s" % arg)


def say(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def read_hex():
    line = sys.stdin.readline()
    if not line:
        sys.exit("mit_gss_peer: the other side ended")
    return bytes.fromhex(line.strip())


def show(token):
    say(token.hex() if token else "-")


def status(ctx):
    say("DONE" if ctx.complete else "MORE")


def initiate(target, m):
    cred = gssapi.Credentials(usage="initiate", mechs=[KRB5])
    name = gssapi.Name(target, name_type=gssapi.NameType.hostbased_service)
    ctx = gssapi.SecurityContext(name=name, creds=cred, usage="initiate", mech=m, flags=FLAGS)
    token = ctx.step()
    while True:
        show(token)
        status(ctx)
        if ctx.complete:
            break
        token = ctx.step(read_hex())
    say(ctx.wrap(b"from mit", True).message.hex())
    msg = ctx.unwrap(read_hex()).message
    say("MSG " + msg.decode("utf-8", "replace"))


def accept(m):
    cred = gssapi.Credentials(usage="accept", mechs=[m])
    ctx = gssapi.SecurityContext(creds=cred, usage="accept")
    while True:
        show(ctx.step(read_hex()))
        status(ctx)
        if ctx.complete:
            break
    msg = ctx.unwrap(read_hex()).message
    say("MSG " + msg.decode("utf-8", "replace"))
    say(ctx.wrap(b"from mit", True).message.hex())
    say("CLIENT %s" % ctx.initiator_name)


def main():
    args = sys.argv[1:]
    try:
        if args[:1] == ["initiate"] and len(args) >= 2:
            initiate(args[1], mech(args[2] if len(args) > 2 else None))
        elif args[:1] == ["accept"]:
            accept(mech(args[1] if len(args) > 1 else None))
        else:
            sys.exit(
                "usage: mit_gss_peer.py initiate SERVICE@HOST [krb5|spnego] | accept [krb5|spnego]"
            )
    except gssapi.exceptions.GSSError as e:
        sys.exit("mit_gss_peer: %s" % e)


if __name__ == "__main__":
    main()
