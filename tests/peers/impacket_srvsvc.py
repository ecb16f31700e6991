#!/usr/bin/python3
"""impacket's srvsvc and wkssvc clients (MS-SRVS, MS-WKST) against Adjoin's server.

    impacket_srvsvc.py PORT

Over ncacn_ip_tcp at 127.0.0.1[PORT]: NetrShareEnum level 1, NetrShareGetInfo level 1 for
"data" and for a share that does not exist, NetrServerGetInfo level 101, and (a second
connection) NetrWkstaGetInfo level 100. Prints what the server said, one fact per line.
"""
import sys

from impacket.dcerpc.v5 import srvs, transport, wkst
from impacket.dcerpc.v5.rpcrt import DCERPCException

port = int(sys.argv[1])


def bound(uuid):
    t = transport.DCERPCTransportFactory(f"ncacn_ip_tcp:127.0.0.1[{port}]")
    dce = t.get_dce_rpc()
    dce.connect()
    dce.bind(uuid)
    return dce


dce = bound(srvs.MSRPC_UUID_SRVS)
shares = srvs.hNetrShareEnum(dce, 1)["InfoStruct"]["ShareInfo"]["Level1"]["Buffer"]
for s in shares:
    print(f"share {s['shi1_netname'][:-1]} type {s['shi1_type']:#x} remark {s['shi1_remark'][:-1]}")
info = srvs.hNetrShareGetInfo(dce, "data\x00", 1)["InfoStruct"]["ShareInfo1"]
print(f"getinfo {info['shi1_netname'][:-1]} remark {info['shi1_remark'][:-1]}")
try:
    srvs.hNetrShareGetInfo(dce, "nosuch\x00", 1)
    sys.exit("an unknown share was found")
except DCERPCException as e:
    print(f"unknown share: {e.get_error_code():#x}")
server = srvs.hNetrServerGetInfo(dce, 101)["InfoStruct"]["ServerInfo101"]
print(f"server {server['sv101_name'][:-1]} platform {server['sv101_platform_id']} "
      f"version {server['sv101_version_major']}.{server['sv101_version_minor']} "
      f"type {server['sv101_type']:#x}")
dce.disconnect()

dce = bound(wkst.MSRPC_UUID_WKST)
w = wkst.hNetrWkstaGetInfo(dce, 100)["WkstaInfo"]["WkstaInfo100"]
print(f"workstation {w['wki100_computername'][:-1]} domain {w['wki100_langroup'][:-1]} "
      f"version {w['wki100_ver_major']}.{w['wki100_ver_minor']}")
print("ok")
