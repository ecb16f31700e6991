#!/usr/bin/python3
"""Reference NDR stubs for the MS-SRVS calls an administrator (and smbtorture's
rpc.srvsvc) makes besides the share listing: NetSessEnum, NetConnEnum, NetFileEnum,
NetDiskEnum, NetTransportEnum, NetRemoteTOD, NetShareCheck, NetShareEnum (sticky),
NetCharDevEnum and NetCharDevQEnum, from Samba's pidl-generated marshalling
(python3-samba), as gen-srvsvc.py does for the share calls:
    rpc/testdata/ndr/gen-srvsvc-admin.py > rpc/testdata/ndr/srvsvc_admin.txt

The responses are what SrvsvcService answers for the server below (FS1 in EXAMPLE, the
shares IPC$ and data) with one session (alice from 10.0.0.5, up 120 s, idle 30 s), one
tree connect (id 7, to data, 100 s) and one open (id 9), at the fixed time NOW.
"""
from samba.dcerpc import srvsvc
from samba import ndr

SERVER = "FS1"
UNC = "\\\\" + SERVER
DOMAIN = "EXAMPLE"
NOW = 1796281528  # 2026-12-03 07:05:28 UTC, a Thursday
CLIENT = "\\\\10.0.0.5"
USER = "alice"
PATH = "C:\\srv\\data\\report.txt"


def out(name, data):
    print(name, bytes(data).hex())


def enum_call(call, tag, level, ctr_cls, info_ctr_cls, ctr_attr, entries, result=0,
              total=None, **inputs):
    """An enumeration: [in] with an empty container, [out] with `entries`."""
    r = call()
    r.in_server_unc = UNC
    for k, v in inputs.items():
        setattr(r, "in_" + k, v)
    ic = info_ctr_cls()
    ic.level = level
    if ctr_cls is not None:
        c = ctr_cls()
        c.count = 0
        c.array = None
        ic.ctr = c
    setattr(r, "in_" + ctr_attr, ic)
    r.in_max_buffer = 0xFFFFFFFF
    r.in_resume_handle = None
    out(tag + "_in", ndr.ndr_pack_in(r))
    oc = info_ctr_cls()
    oc.level = level
    if ctr_cls is not None:
        c = ctr_cls()
        c.count = len(entries)
        c.array = entries if entries else None
        oc.ctr = c
    setattr(r, "out_" + ctr_attr, oc)
    r.out_totalentries = len(entries) if total is None else total
    r.out_resume_handle = None
    r.result = result
    out(tag + "_out", ndr.ndr_pack_out(r))


def sess(cls, **fields):
    i = cls()
    for k, v in fields.items():
        setattr(i, k, v)
    return i


SESSION = dict(client=CLIENT, user=USER, num_open=1, time=120, idle_time=30, user_flags=0)
SESS_LEVELS = {
    0: (srvsvc.NetSessCtr0, lambda: sess(srvsvc.NetSessInfo0, client=CLIENT)),
    1: (srvsvc.NetSessCtr1, lambda: sess(srvsvc.NetSessInfo1, **SESSION)),
    2: (srvsvc.NetSessCtr2, lambda: sess(srvsvc.NetSessInfo2, client_type="", **SESSION)),
    10: (srvsvc.NetSessCtr10,
         lambda: sess(srvsvc.NetSessInfo10, client=CLIENT, user=USER, time=120, idle_time=30)),
    502: (srvsvc.NetSessCtr502,
          lambda: sess(srvsvc.NetSessInfo502, client_type="", transport="", **SESSION)),
}
for level, (ctr, make) in SESS_LEVELS.items():
    enum_call(srvsvc.NetSessEnum, "sess_enum_%d" % level, level, ctr, srvsvc.NetSessInfoCtr,
              "info_ctr", [make()], client=None, user=None)
enum_call(srvsvc.NetSessEnum, "sess_enum_denied", 1, srvsvc.NetSessCtr1,
          srvsvc.NetSessInfoCtr, "info_ctr", [], result=5, client=None, user=None)

CONN = dict(conn_id=7, conn_type=0, num_open=1, num_users=1, conn_time=100, user=USER,
            share="10.0.0.5")
enum_call(srvsvc.NetConnEnum, "conn_enum_0", 0, srvsvc.NetConnCtr0, srvsvc.NetConnInfoCtr,
          "info_ctr", [sess(srvsvc.NetConnInfo0, conn_id=7)], path="data")
enum_call(srvsvc.NetConnEnum, "conn_enum_1", 1, srvsvc.NetConnCtr1, srvsvc.NetConnInfoCtr,
          "info_ctr", [sess(srvsvc.NetConnInfo1, **CONN)], path="data")

enum_call(srvsvc.NetFileEnum, "file_enum_2", 2, srvsvc.NetFileCtr2, srvsvc.NetFileInfoCtr,
          "info_ctr", [sess(srvsvc.NetFileInfo2, fid=9)], path=None, user=None)
enum_call(srvsvc.NetFileEnum, "file_enum_3", 3, srvsvc.NetFileCtr3, srvsvc.NetFileInfoCtr,
          "info_ctr",
          [sess(srvsvc.NetFileInfo3, fid=9, permissions=3, num_locks=0, path=PATH, user=USER)],
          path=None, user=None)

# Not supported (ERROR_NOT_SUPPORTED), the empty container echoed.
enum_call(srvsvc.NetCharDevEnum, "char_dev_enum_0", 0, srvsvc.NetCharDevCtr0,
          srvsvc.NetCharDevInfoCtr, "info_ctr", [], result=50)
enum_call(srvsvc.NetCharDevQEnum, "char_dev_q_enum_1", 1, srvsvc.NetCharDevQCtr1,
          srvsvc.NetCharDevQInfoCtr, "info_ctr", [], result=50, user="Administrator")

ADDRESS = list(b"FS1" + b" " * 13)
TRANSPORT = dict(vcs=1, name="\\Device\\NetbiosSmb", addr=ADDRESS, addr_len=16,
                 net_addr="000000000000")
enum_call(srvsvc.NetTransportEnum, "transport_enum_0", 0, srvsvc.NetTransportCtr0,
          srvsvc.NetTransportInfoCtr, "transports", [sess(srvsvc.NetTransportInfo0, **TRANSPORT)])
enum_call(srvsvc.NetTransportEnum, "transport_enum_1", 1, srvsvc.NetTransportCtr1,
          srvsvc.NetTransportInfoCtr, "transports",
          [sess(srvsvc.NetTransportInfo1, domain=DOMAIN, **TRANSPORT)])

# NetShareEnum (MS-SRVS NetrShareEnumSticky): the disk shares only.
s1 = srvsvc.NetShareInfo1()
s1.name, s1.type, s1.comment = "data", 0, "Team data"
enum_call(srvsvc.NetShareEnum, "share_enum_sticky_1", 1, srvsvc.NetShareCtr1,
          srvsvc.NetShareInfoCtr, "info_ctr", [s1])
enum_call(srvsvc.NetShareEnum, "share_enum_sticky_501", 501, srvsvc.NetShareCtr501,
          srvsvc.NetShareInfoCtr, "info_ctr", [], result=124)

r = srvsvc.NetDiskEnum()
r.in_server_unc = None
r.in_level = 0
info = srvsvc.NetDiskInfo()
info.count = 0
info.disks = None
r.in_info = info
r.in_maxlen = 0xFFFFFFFF
r.in_resume_handle = 0
out("disk_enum_in", ndr.ndr_pack_in(r))
o = srvsvc.NetDiskInfo()
disks = []
for d in ("C:", ""):
    i = srvsvc.NetDiskInfo0()
    i.disk = d
    disks.append(i)
o.count = len(disks)
o.disks = disks
r.out_info = o
r.out_totalentries = 1
r.out_resume_handle = 0
r.result = 0
out("disk_enum_out", ndr.ndr_pack_out(r))

r = srvsvc.NetRemoteTOD()
r.in_server_unc = UNC
out("remote_tod_in", ndr.ndr_pack_in(r))
t = srvsvc.NetRemoteTODInfo()
t.elapsed = NOW
t.msecs = (NOW * 1000 + 250) & 0xFFFFFFFF
t.hours, t.mins, t.secs, t.hunds = 7, 5, 28, 25
t.timezone = 0
t.tinterval = 310
t.day, t.month, t.year, t.weekday = 3, 12, 2026, 4
r.out_info = t
r.result = 0
out("remote_tod_out", ndr.ndr_pack_out(r))


def share_check(tag, device, share_type, result):
    r = srvsvc.NetShareCheck()
    r.in_server_unc = UNC
    r.in_device_name = device
    out("share_check_%s_in" % tag, ndr.ndr_pack_in(r))
    r.out_type = share_type
    r.result = result
    out("share_check_%s_out" % tag, ndr.ndr_pack_out(r))


share_check("data", "C:\\srv\\data", 0, 0)
share_check("ipc", "", 0x80000003, 0)
share_check("none", "C:\\etc", 0, 2311)  # NERR_DeviceNotShared
