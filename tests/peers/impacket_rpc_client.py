#!/usr/bin/python3
"""impacket as an independent DCE/RPC client of Adjoin's server binding (ncacn_ip_tcp).

    impacket_rpc_client.py PORT UUID VERSION

Binds UUID/VERSION at 127.0.0.1[PORT], calls opnum 1 with 20,480 bytes (several fragments
each way) and expects them reversed; calls opnum 9 and expects a fault; then binds an
unknown interface on a second connection and expects the bind refused. Prints one line
per check; exits non-zero on the first failure.
"""
import sys

from impacket.dcerpc.v5 import transport
from impacket.dcerpc.v5.rpcrt import DCERPCException
from impacket.uuid import uuidtup_to_bin

port, uuid, version = int(sys.argv[1]), sys.argv[2], sys.argv[3]


def connect():
    t = transport.DCERPCTransportFactory(f"ncacn_ip_tcp:127.0.0.1[{port}]")
    dce = t.get_dce_rpc()
    dce.connect()
    return dce


dce = connect()
dce.bind(uuidtup_to_bin((uuid, version)))
print("bound")
data = bytes(range(256)) * 80
dce.call(1, data)
answer = dce.recv()
if answer != data[::-1]:
    sys.exit(f"reversed call: {len(answer)} bytes, not the input reversed")
print("call of 20480 bytes reversed")
try:
    dce.call(9, b"")
    dce.recv()
    sys.exit("opnum 9 did not fault")
except DCERPCException as e:
    print(f"opnum 9 fault: {e}")
dce.disconnect()

other = connect()
try:
    other.bind(uuidtup_to_bin(("11111111-2222-3333-4444-555555555555", "1.0")))
    sys.exit("an unknown interface was bound")
except DCERPCException as e:
    print(f"unknown interface refused: {e}")
print("ok")
