#!/usr/bin/python3
"""Reference NDR stubs for LSA LookupSids3 / LookupNames4 from Samba's pidl-generated
marshalling (python3-samba), as gen-netlogon.py does for NETLOGON:
    rpc/testdata/ndr/gen-lsa.py > rpc/testdata/ndr/lsa.txt
"""
from samba.dcerpc import lsa, security
from samba import ndr


def out(name, data):
    print(name, bytes(data).hex())


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


def domains():
    d = lsa.RefDomainList()
    info = lsa.DomainInfo()
    info.name = lsa.StringLarge()
    info.name.string = "EXAMPLE"
    info.sid = security.dom_sid("S-1-5-21-1-2-3")
    d.count = 1
    d.domains = [info]
    d.max_size = 32
    return d


r = lsa.LookupSids3()
r.in_sids = sid_array("S-1-5-21-1-2-3-1103", "S-1-5-21-1-2-3-1107")
names = lsa.TransNameArray2()
names.count = 0
names.names = []
r.in_names = names
r.in_level = 1
r.in_count = 0
r.in_lookup_options = 0
r.in_client_revision = 2
out("lookup_sids3_in", ndr.ndr_pack_in(r))

n1 = lsa.TranslatedName2()
n1.sid_type = 1
n1.name = lsa.String()
n1.name.string = "alice"
n1.sid_index = 0
n1.unknown = 0
n2 = lsa.TranslatedName2()
n2.sid_type = 2
n2.name = lsa.String()
n2.name.string = "engineers"
n2.sid_index = 0
n2.unknown = 0
names = lsa.TransNameArray2()
names.count = 2
names.names = [n1, n2]
r.out_domains = domains()
r.out_names = names
r.out_count = 2
r.result = 0
out("lookup_sids3_out", ndr.ndr_pack_out(r))

r = lsa.LookupNames4()
s1 = lsa.String()
s1.string = "EXAMPLE\\alice"
r.in_num_names = 1
r.in_names = [s1]
sids = lsa.TransSidArray3()
sids.count = 0
sids.sids = []
r.in_sids = sids
r.in_level = 1
r.in_count = 0
r.in_lookup_options = 0
r.in_client_revision = 2
out("lookup_names4_in", ndr.ndr_pack_in(r))

t = lsa.TranslatedSid3()
t.sid_type = 1
t.sid = security.dom_sid("S-1-5-21-1-2-3-1103")
t.sid_index = 0
t.flags = 0
sids = lsa.TransSidArray3()
sids.count = 1
sids.sids = [t]
r.out_domains = domains()
r.out_sids = sids
r.out_count = 1
r.result = 0
out("lookup_names4_out", ndr.ndr_pack_out(r))

from samba.dcerpc import base

r = lsa.GetUserName()
r.in_system_name = None
r.in_account_name = None
# [in,out,unique] lsa_String **authority_name: the outer pointer set, the inner null.
r.in_authority_name = base.ndr_pointer(None)
out("get_user_name_in", ndr.ndr_pack_in(r))
acct = lsa.String()
acct.string = "alice"
r.out_account_name = acct
auth = lsa.String()
auth.string = "EXAMPLE"
r.out_authority_name = base.ndr_pointer(auth)
r.result = 0
out("get_user_name_out", ndr.ndr_pack_out(r))
