#!/usr/bin/python3
"""Reference NDR stubs for MS-SRVS NetrShareEnum (Samba: NetShareEnumAll, opnum 15),
NetrShareGetInfo (16) and NetrServerGetInfo (21) from Samba's pidl-generated
marshalling (python3-samba), as gen-lsa.py does for LSA:
    rpc/testdata/ndr/gen-srvsvc.py > rpc/testdata/ndr/srvsvc.txt

The responses are what SrvsvcService answers for the server below (FS1, shares IPC$
and data); the requests are what smbclient -L, net view and Explorer send.
"""
from samba.dcerpc import srvsvc, security
from samba import ndr

MAX_PREFERRED_LENGTH = 0xFFFFFFFF
STYPE_IPC_SPECIAL = 0x80000003
SERVER = "FS1"
COMMENT = "Adjoin file server"
# (name, type, comment, path as Windows shows it)
SHARES = [
    ("IPC$", STYPE_IPC_SPECIAL, "IPC Service (Adjoin)", ""),
    ("data", 0, "Team data", "C:\\srv\\data"),
]


def out(name, data):
    print(name, bytes(data).hex())


def info0(s):
    i = srvsvc.NetShareInfo0()
    i.name = s[0]
    return i


def info1(s):
    i = srvsvc.NetShareInfo1()
    i.name, i.type, i.comment = s[0], s[1], s[2]
    return i


def info2(s, cls=srvsvc.NetShareInfo2):
    i = cls()
    i.name, i.type, i.comment = s[0], s[1], s[2]
    i.permissions = 0
    i.max_users = 0xFFFFFFFF
    i.current_users = 0
    i.path = s[3]
    i.password = None
    return i


def info501(s):
    i = srvsvc.NetShareInfo501()
    i.name, i.type, i.comment = s[0], s[1], s[2]
    i.csc_policy = 0
    return i


def info502(s):
    i = info2(s, srvsvc.NetShareInfo502)
    i.sd_buf = security.sec_desc_buf()
    i.sd_buf.sd_size = 0
    i.sd_buf.sd = None
    return i


def info1005(s):
    i = srvsvc.NetShareInfo1005()
    i.dfs_flags = 0
    return i


LEVELS = {
    0: (srvsvc.NetShareCtr0, info0),
    1: (srvsvc.NetShareCtr1, info1),
    2: (srvsvc.NetShareCtr2, info2),
    501: (srvsvc.NetShareCtr501, info501),
    502: (srvsvc.NetShareCtr502, info502),
}


def share_enum(level, resume, entries, result=0, server_unc="\\\\" + SERVER, tag=None):
    tag = tag or level
    r = srvsvc.NetShareEnumAll()
    r.in_server_unc = server_unc
    ctr = srvsvc.NetShareInfoCtr()
    ctr.level = level
    if level in LEVELS:
        c = LEVELS[level][0]()
        c.count = 0
        c.array = None
        ctr.ctr = c
    r.in_info_ctr = ctr
    r.in_max_buffer = MAX_PREFERRED_LENGTH
    r.in_resume_handle = resume
    out("share_enum_%s_in" % tag, ndr.ndr_pack_in(r))
    octr = srvsvc.NetShareInfoCtr()
    octr.level = level
    if level in LEVELS:
        cls, make = LEVELS[level]
        c = cls()
        c.count = len(entries)
        c.array = [make(s) for s in entries] if entries else None
        octr.ctr = c
    r.out_info_ctr = octr
    r.out_totalentries = len(SHARES) if result == 0 else 0
    r.out_resume_handle = 0 if resume is not None else None
    r.result = result
    out("share_enum_%s_out" % tag, ndr.ndr_pack_out(r))


for level in LEVELS:
    share_enum(level, 0, SHARES)
share_enum(7, 0, [], result=124)  # ERROR_INVALID_LEVEL
# Paths (levels 2 and 502) not revealed: ERROR_ACCESS_DENIED, the container empty.
share_enum(2, 0, [], result=5, tag="denied")
# smbclient -L: no resume handle, a NULL server name.
share_enum(1, None, SHARES, server_unc=None, tag="smbclient")


def get_info(name, level, share, result=0, tag=None):
    r = srvsvc.NetShareGetInfo()
    r.in_server_unc = "\\\\" + SERVER
    r.in_share_name = name
    r.in_level = level
    out("share_get_info_%s_in" % (tag or level), ndr.ndr_pack_in(r))
    makers = {0: info0, 1: info1, 2: info2, 501: info501, 502: info502, 1005: info1005}
    r.out_info = makers[level](share) if level in makers and share else None
    r.result = result
    out("share_get_info_%s_out" % (tag or level), ndr.ndr_pack_out(r))


for level in (0, 1, 2, 501, 502, 1005):
    get_info("data", level, SHARES[1])
get_info("IPC$", 1, SHARES[0], tag="ipc")
get_info("nosuch", 1, None, result=2310, tag="unknown_share")  # NERR_NetNameNotFound
get_info("data", 7, None, result=124, tag="unknown_level")
get_info("data", 2, None, result=5, tag="denied")  # ERROR_ACCESS_DENIED


def srv_get_info(level, result=0, tag=None):
    r = srvsvc.NetSrvGetInfo()
    r.in_server_unc = "\\\\" + SERVER
    r.in_level = level
    out("srv_get_info_%s_in" % (tag or level), ndr.ndr_pack_in(r))
    u = None
    if level == 100:
        i = srvsvc.NetSrvInfo100()
        i.platform_id = 500
        i.server_name = SERVER
        u = i
    elif level == 101:
        i = srvsvc.NetSrvInfo101()
        i.platform_id = 500
        i.server_name = SERVER
        i.version_major = 10
        i.version_minor = 0
        # SV_TYPE_WORKSTATION | SERVER | DOMAIN_MEMBER | NT | SERVER_NT
        i.server_type = 0x9103
        i.comment = COMMENT
        u = i
    r.out_info = u
    r.result = result
    out("srv_get_info_%s_out" % (tag or level), ndr.ndr_pack_out(r))


srv_get_info(100)
srv_get_info(101)
srv_get_info(102, result=124)
