#!/usr/bin/python3
"""Reference NDR stubs for MS-WKST NetrWkstaGetInfo (opnum 0) from Samba's
pidl-generated marshalling (python3-samba), as gen-srvsvc.py does for srvsvc:
    rpc/testdata/ndr/gen-wkssvc.py > rpc/testdata/ndr/wkssvc.txt

The responses are what WkssvcService answers for FS1, a member of EXAMPLE.
"""
from samba.dcerpc import wkssvc
from samba import ndr


def out(name, data):
    print(name, bytes(data).hex())


def wksta_get_info(level, result=0, server_name="\\\\FS1", tag=None):
    tag = tag or level
    r = wkssvc.NetWkstaGetInfo()
    r.in_server_name = server_name
    r.in_level = level
    out("wksta_get_info_%s_in" % tag, ndr.ndr_pack_in(r))
    info = None
    if level == 100:
        info = wkssvc.NetWkstaInfo100()
        info.platform_id = 500  # PLATFORM_ID_NT
        info.server_name = "FS1"
        info.domain_name = "EXAMPLE"
        info.version_major = 10
        info.version_minor = 0
    r.out_info = info
    r.result = result
    out("wksta_get_info_%s_out" % tag, ndr.ndr_pack_out(r))


wksta_get_info(100)
wksta_get_info(100, server_name=None, tag="null_server")
wksta_get_info(102, result=124)  # ERROR_INVALID_LEVEL
