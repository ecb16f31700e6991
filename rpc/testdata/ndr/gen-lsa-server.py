#!/usr/bin/python3
"""Reference NDR stubs for the LSA calls a member's lsarpc pipe answers (MS-LSAD
LsarOpenPolicy/2, LsarClose, LsarQueryInformationPolicy/2; MS-LSAT LsarLookupSids/2,
LsarLookupNames/2/3), from Samba's pidl-generated marshalling (python3-samba), as
gen-lsa.py does for the client's calls:
    rpc/testdata/ndr/gen-lsa-server.py > rpc/testdata/ndr/lsa_server.txt

The requests are what rpcclient sends (lsaquery, lookupnames, lookupsids); the replies
are what LsaService answers for the member below: FS1 in EXAMPLE (example.test,
S-1-5-21-1-2-3), its own account domain S-1-5-21-7-8-9, alice (RID 1103) and
engineers (RID 1107). Samba's lsa_StringLarge carries a MaximumLength one character
longer than ours (both are valid), so the replies are compared decoded, not byte for
byte.
"""
from samba.dcerpc import lsa, security, misc
from samba import ndr

DOMAIN_SID = "S-1-5-21-1-2-3"
MACHINE_SID = "S-1-5-21-7-8-9"
GUID = "00000000-0000-0000-0000-000000000000"


def out(name, data):
    print(name, bytes(data).hex())


def handle(n):
    h = misc.policy_handle()
    h.handle_type = 0
    h.uuid = misc.GUID("%08x-0000-0000-0000-000000000000" % n)
    return h


def attr():
    qos = lsa.QosInfo()
    qos.len = 12
    qos.impersonation_level = 2
    qos.context_mode = 1
    qos.effective_only = 0
    a = lsa.ObjectAttribute()
    a.len = 24
    a.root_dir = None
    a.object_name = None
    a.attributes = 0
    a.sec_desc = None
    a.sec_qos = qos
    return a


r = lsa.OpenPolicy2()
r.in_system_name = "\\\\FS1"
r.in_attr = attr()
r.in_access_mask = 0x02000000
out("open_policy2_in", ndr.ndr_pack_in(r))
r.out_handle = handle(1)
r.result = 0
out("open_policy2_out", ndr.ndr_pack_out(r))

r = lsa.OpenPolicy()
r.in_system_name = ord("\\")
r.in_attr = attr()
r.in_access_mask = 0x00000801
out("open_policy_in", ndr.ndr_pack_in(r))
r.out_handle = handle(1)
r.result = 0
out("open_policy_out", ndr.ndr_pack_out(r))

r = lsa.Close()
r.in_handle = handle(1)
out("close_in", ndr.ndr_pack_in(r))
r.out_handle = handle(0)
r.out_handle.uuid = misc.GUID(GUID)
r.result = 0
out("close_out", ndr.ndr_pack_out(r))


def string_large(s):
    v = lsa.StringLarge()
    v.string = s
    return v


def domain_info(name, sid):
    d = lsa.DomainInfo()
    d.name = string_large(name)
    d.sid = security.dom_sid(sid)
    return d


def query(call, tag, level, info):
    r = call()
    r.in_handle = handle(1)
    r.in_level = level
    out(tag + "_in", ndr.ndr_pack_in(r))
    r.out_info = info
    r.result = 0 if info is not None else 0xC000000D  # STATUS_INVALID_PARAMETER
    out(tag + "_out", ndr.ndr_pack_out(r))


query(lsa.QueryInfoPolicy, "query_info_3", 3, domain_info("EXAMPLE", DOMAIN_SID))
query(lsa.QueryInfoPolicy, "query_info_5", 5, domain_info("FS1", MACHINE_SID))
dns = lsa.DnsDomainInfo()
dns.name = string_large("EXAMPLE")
dns.dns_domain = string_large("example.test")
dns.dns_forest = string_large("example.test")
dns.domain_guid = misc.GUID(GUID)
dns.sid = security.dom_sid(DOMAIN_SID)
query(lsa.QueryInfoPolicy2, "query_info2_12", 12, dns)
query(lsa.QueryInfoPolicy, "query_info_2", 2, None)


def ref_domains(*domains):
    d = lsa.RefDomainList()
    d.count = len(domains)
    d.domains = [domain_info(n, s) for n, s in domains]
    d.max_size = 32
    return d


def sid_array(*sids):
    a = lsa.SidArray()
    ptrs = []
    for s in sids:
        p = lsa.SidPtr()
        p.sid = security.dom_sid(s)
        ptrs.append(p)
    a.num_sids = len(ptrs)
    a.sids = ptrs
    return a


def lsa_string(s):
    v = lsa.String()
    v.string = s
    return v


SIDS = [DOMAIN_SID + "-1103", DOMAIN_SID + "-1107", DOMAIN_SID + "-4242", "S-1-5-32-544"]
# (type, name, domain index)
NAMES = [(1, "alice", 0), (2, "engineers", 0), (8, "4242", 0), (4, "Administrators", 1)]
DOMAINS = [("EXAMPLE", DOMAIN_SID), ("BUILTIN", "S-1-5-32")]

r = lsa.LookupSids()
r.in_handle = handle(1)
r.in_sids = sid_array(*SIDS)
names = lsa.TransNameArray()
names.count = 0
names.names = None
r.in_names = names
r.in_level = 1
r.in_count = 0
out("lookup_sids_in", ndr.ndr_pack_in(r))
r.out_domains = ref_domains(*DOMAINS)
names = lsa.TransNameArray()
items = []
for t, n, i in NAMES:
    x = lsa.TranslatedName()
    x.sid_type, x.name, x.sid_index = t, lsa_string(n), i
    items.append(x)
names.count = len(items)
names.names = items
r.out_names = names
r.out_count = 3
r.result = 0x00000107  # STATUS_SOME_NOT_MAPPED
out("lookup_sids_out", ndr.ndr_pack_out(r))

r = lsa.LookupSids2()
r.in_handle = handle(1)
r.in_sids = sid_array(*SIDS[:2])
names = lsa.TransNameArray2()
names.count = 0
names.names = None
r.in_names = names
r.in_level = 1
r.in_count = 0
r.in_lookup_options = 0
r.in_client_revision = 2
out("lookup_sids2_in", ndr.ndr_pack_in(r))
r.out_domains = ref_domains(DOMAINS[0])
names = lsa.TransNameArray2()
items = []
for t, n, i in NAMES[:2]:
    x = lsa.TranslatedName2()
    x.sid_type, x.name, x.sid_index, x.unknown = t, lsa_string(n), i, 0
    items.append(x)
names.count = len(items)
names.names = items
r.out_names = names
r.out_count = 2
r.result = 0
out("lookup_sids2_out", ndr.ndr_pack_out(r))

LOOKUP = ["alice", "EXAMPLE\\engineers", "nobody"]
# (type, rid, domain index)
FOUND = [(1, 1103, 0), (2, 1107, 0), (8, 0, -1)]


def lookup_names(call, tag, arr_cls, item_cls, fill, extra):
    r = call()
    r.in_handle = handle(1)
    r.in_num_names = len(LOOKUP)
    r.in_names = [lsa_string(n) for n in LOOKUP]
    empty = arr_cls()
    empty.count = 0
    empty.sids = None
    r.in_sids = empty
    r.in_level = 1
    r.in_count = 0
    for k, v in extra.items():
        setattr(r, "in_" + k, v)
    out(tag + "_in", ndr.ndr_pack_in(r))
    r.out_domains = ref_domains(DOMAINS[0])
    arr = arr_cls()
    items = []
    for t, rid, i in FOUND:
        x = item_cls()
        fill(x, t, rid, i)
        items.append(x)
    arr.count = len(items)
    arr.sids = items
    r.out_sids = arr
    r.out_count = 2
    r.result = 0x00000107
    out(tag + "_out", ndr.ndr_pack_out(r))


def sid1(x, t, rid, i):
    x.sid_type, x.rid, x.sid_index = t, rid, i & 0xFFFFFFFF


def sid2(x, t, rid, i):
    sid1(x, t, rid, i)
    x.unknown = 0


def sid3(x, t, rid, i):
    x.sid_type, x.sid_index, x.flags = t, i & 0xFFFFFFFF, 0
    x.sid = security.dom_sid("%s-%d" % (DOMAIN_SID, rid)) if t != 8 else None


V2 = dict(lookup_options=0, client_revision=2)
lookup_names(lsa.LookupNames, "lookup_names", lsa.TransSidArray, lsa.TranslatedSid, sid1, {})
lookup_names(lsa.LookupNames2, "lookup_names2", lsa.TransSidArray2, lsa.TranslatedSid2, sid2, V2)
lookup_names(lsa.LookupNames3, "lookup_names3", lsa.TransSidArray3, lsa.TranslatedSid3, sid3, V2)
