#!/usr/bin/python3
"""Reference NDR stubs for the SAMR calls `net user` / `net localgroup` make, from
Samba's pidl-generated marshalling (python3-samba), as gen-netlogon.py does for NETLOGON:
    rpc/testdata/ndr/gen-samr.py > rpc/testdata/ndr/samr.txt
Each line: <name> <hex>. rpc/src/samr/tests.rs builds the same values with
adjoin-rpc's types and compares bytes both ways.
"""
from samba.dcerpc import samr, security, lsa, misc
from samba import ndr

DOMAIN_SID = "S-1-5-21-1-2-3"


def out(name, data):
    print(name, bytes(data).hex())


def handle(uuid):
    h = misc.policy_handle()
    h.handle_type = 0
    h.uuid = misc.GUID(uuid)
    return h


CONNECT = handle("5f0f7c3a-2d1e-4b6a-9c8d-0123456789a1")
DOMAIN = handle("5f0f7c3a-2d1e-4b6a-9c8d-0123456789a2")
USER = handle("5f0f7c3a-2d1e-4b6a-9c8d-0123456789a3")
GROUP = handle("5f0f7c3a-2d1e-4b6a-9c8d-0123456789a4")
ALIAS = handle("5f0f7c3a-2d1e-4b6a-9c8d-0123456789a5")
NULL = handle("00000000-0000-0000-0000-000000000000")


def string(s):
    x = lsa.String()
    x.string = s
    return x


def sam_array(entries):
    a = samr.SamArray()
    items = []
    for idx, name in entries:
        e = samr.SamEntry()
        e.idx = idx
        e.name = string(name)
        items.append(e)
    a.count = len(items)
    a.entries = items
    return a


def ids(values):
    x = samr.Ids()
    x.count = len(values)
    x.ids = list(values)
    return x


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


# 3.1.5.1.1 SamrConnect5 (64)
info = samr.ConnectInfo1()
info.client_version = 3
info.supported_features = 0
r = samr.Connect5()
r.in_system_name = "\\\\dc1.example.test"
r.in_access_mask = 0x31  # SAM_SERVER_CONNECT | ENUMERATE_DOMAINS | LOOKUP_DOMAIN
r.in_level_in = 1
r.in_info_in = info
out("connect5_in", ndr.ndr_pack_in(r))
info = samr.ConnectInfo1()
info.client_version = 3
info.supported_features = 0
r.out_level_out = 1
r.out_info_out = info
r.out_connect_handle = CONNECT
r.result = 0
out("connect5_out", ndr.ndr_pack_out(r))

# 3.1.5.13.1 SamrCloseHandle (1)
r = samr.Close()
r.in_handle = DOMAIN
out("close_in", ndr.ndr_pack_in(r))
r.out_handle = NULL
r.result = 0
out("close_out", ndr.ndr_pack_out(r))

# 3.1.5.11.1 SamrLookupDomainInSamServer (5)
r = samr.LookupDomain()
r.in_connect_handle = CONNECT
r.in_domain_name = string("EXAMPLE")
out("lookup_domain_in", ndr.ndr_pack_in(r))
r.out_sid = security.dom_sid(DOMAIN_SID)
r.result = 0
out("lookup_domain_out", ndr.ndr_pack_out(r))
r.out_sid = None
r.result = 0xC00000DF  # STATUS_NO_SUCH_DOMAIN
out("lookup_domain_out_no_such_domain", ndr.ndr_pack_out(r))

# 3.1.5.2.1 SamrEnumerateDomainsInSamServer (6)
r = samr.EnumDomains()
r.in_connect_handle = CONNECT
r.in_resume_handle = 0
r.in_buf_size = 0xFFFFFFFF
out("enum_domains_in", ndr.ndr_pack_in(r))
r.out_resume_handle = 2
r.out_sam = sam_array([(0, "EXAMPLE"), (1, "Builtin")])
r.out_num_entries = 2
r.result = 0
out("enum_domains_out", ndr.ndr_pack_out(r))

# 3.1.5.1.5 SamrOpenDomain (7)
r = samr.OpenDomain()
r.in_connect_handle = CONNECT
r.in_access_mask = 0x300  # DOMAIN_LOOKUP | DOMAIN_LIST_ACCOUNTS
r.in_sid = security.dom_sid(DOMAIN_SID)
out("open_domain_in", ndr.ndr_pack_in(r))
r.out_domain_handle = DOMAIN
r.result = 0
out("open_domain_out", ndr.ndr_pack_out(r))

# 3.1.5.2.5 SamrEnumerateUsersInDomain (13)
r = samr.EnumDomainUsers()
r.in_domain_handle = DOMAIN
r.in_resume_handle = 0
r.in_acct_flags = 0x10  # USER_NORMAL_ACCOUNT
r.in_max_size = 0xFFFF
out("enum_users_in", ndr.ndr_pack_in(r))
r.out_resume_handle = 1104
r.out_sam = sam_array([(1103, "alice"), (1104, "bob")])
r.out_num_entries = 2
r.result = 0x105  # STATUS_MORE_ENTRIES
out("enum_users_out", ndr.ndr_pack_out(r))

# 3.1.5.2.4 SamrEnumerateAliasesInDomain (15)
r = samr.EnumDomainAliases()
r.in_domain_handle = DOMAIN
r.in_resume_handle = 0
r.in_max_size = 0xFFFF
out("enum_aliases_in", ndr.ndr_pack_in(r))
r.out_resume_handle = 0
r.out_sam = sam_array([(1109, "web-operators")])
r.out_num_entries = 1
r.result = 0
out("enum_aliases_out", ndr.ndr_pack_out(r))
r.out_sam = sam_array([])
r.out_num_entries = 0
out("enum_aliases_out_empty", ndr.ndr_pack_out(r))

# 3.1.5.9.2 SamrGetAliasMembership (16)
r = samr.GetAliasMembership()
r.in_domain_handle = DOMAIN
r.in_sids = sid_array(DOMAIN_SID + "-1103", DOMAIN_SID + "-513")
out("get_alias_membership_in", ndr.ndr_pack_in(r))
r.out_rids = ids([1109])
r.result = 0
out("get_alias_membership_out", ndr.ndr_pack_out(r))

# 3.1.5.11.2 SamrLookupNamesInDomain (17)
r = samr.LookupNames()
r.in_domain_handle = DOMAIN
r.in_num_names = 2
r.in_names = [string("alice"), string("engineers")]
out("lookup_names_in", ndr.ndr_pack_in(r))
r.out_rids = ids([1103, 1107])
r.out_types = ids([1, 2])  # SidTypeUser, SidTypeGroup
r.result = 0
out("lookup_names_out", ndr.ndr_pack_out(r))

# 3.1.5.11.3 SamrLookupIdsInDomain (18)
r = samr.LookupRids()
r.in_domain_handle = DOMAIN
r.in_num_rids = 3
r.in_rids = [1103, 1104, 1107]
out("lookup_rids_in", ndr.ndr_pack_in(r))
names = lsa.Strings()
names.count = 3
names.names = [string("alice"), string("bob"), string("engineers")]
r.out_names = names
r.out_types = ids([1, 1, 2])
r.result = 0
out("lookup_rids_out", ndr.ndr_pack_out(r))

# 3.1.5.1.7 SamrOpenGroup (19)
r = samr.OpenGroup()
r.in_domain_handle = DOMAIN
r.in_access_mask = 0x11  # GROUP_READ_INFORMATION | GROUP_LIST_MEMBERS
r.in_rid = 1107
out("open_group_in", ndr.ndr_pack_in(r))
r.out_group_handle = GROUP
r.result = 0
out("open_group_out", ndr.ndr_pack_out(r))

# 3.1.5.8.3 SamrGetMembersInGroup (25)
r = samr.QueryGroupMember()
r.in_group_handle = GROUP
out("get_members_in_group_in", ndr.ndr_pack_in(r))
members = samr.RidAttrArray()
members.count = 2
members.rids = [1103, 1104]
members.attributes = [7, 7]
r.out_rids = members
r.result = 0
out("get_members_in_group_out", ndr.ndr_pack_out(r))

# 3.1.5.1.8 SamrOpenAlias (27)
r = samr.OpenAlias()
r.in_domain_handle = DOMAIN
r.in_access_mask = 0xC  # ALIAS_LIST_MEMBERS | ALIAS_READ_INFORMATION
r.in_rid = 1109
out("open_alias_in", ndr.ndr_pack_in(r))
r.out_alias_handle = ALIAS
r.result = 0
out("open_alias_out", ndr.ndr_pack_out(r))

# 3.1.5.8.6 SamrGetMembersInAlias (33)
r = samr.GetMembersInAlias()
r.in_alias_handle = ALIAS
out("get_members_in_alias_in", ndr.ndr_pack_in(r))
r.out_sids = sid_array(DOMAIN_SID + "-1103", DOMAIN_SID + "-1107")
r.result = 0
out("get_members_in_alias_out", ndr.ndr_pack_out(r))

# 3.1.5.1.9 SamrOpenUser (34)
r = samr.OpenUser()
r.in_domain_handle = DOMAIN
r.in_access_mask = 0x02000000  # MAXIMUM_ALLOWED
r.in_rid = 1103
out("open_user_in", ndr.ndr_pack_in(r))
r.out_user_handle = USER
r.result = 0
out("open_user_out", ndr.ndr_pack_out(r))

# 3.1.5.5.5 SamrQueryInformationUser2 (47), UserAllInformation (21)
r = samr.QueryUserInfo2()
r.in_user_handle = USER
r.in_level = 21
out("query_user_info2_in", ndr.ndr_pack_in(r))


def binary(units):
    b = lsa.BinaryString()
    if units is None:
        b.length = 0
        b.size = 0
        b.array = None
    else:
        b.length = 2 * len(units)
        b.size = 2 * len(units)
        b.array = list(units)
    return b


u = samr.UserInfo21()
u.last_logon = 0x01D9000011112222
u.last_logoff = 0
u.last_password_change = 0x01D9000033334444
u.acct_expiry = 0x7FFFFFFFFFFFFFFF
u.allow_password_change = 0x01D9000055556666
u.force_password_change = 0x7FFFFFFFFFFFFFFF
u.account_name = string("alice")
u.full_name = string("Alice Lab")
u.home_directory = string("\\\\fs1\\home\\alice")
u.home_drive = string("H:")
u.logon_script = string("logon.cmd")
u.profile_path = string("")
u.description = string("Lab user")
u.workstations = string("")
u.comment = string("")
u.parameters = binary([0x20, 0x50])
u.lm_owf_password = binary(None)
u.nt_owf_password = binary(None)
u.private_data = string(None)
sd = [0x01, 0x00, 0x04, 0x80] + [0] * 16
u.buf_count = len(sd)
u.buffer = sd
u.rid = 1103
u.primary_gid = 513
u.acct_flags = 0x10  # USER_NORMAL_ACCOUNT
u.fields_present = 0x00FFFFFF
hours = samr.LogonHours()
hours.units_per_week = 168
hours.bits = [0xFF] * 21
u.logon_hours = hours
u.bad_password_count = 0
u.logon_count = 3
u.country_code = 0
u.code_page = 0
u.lm_password_set = 0
u.nt_password_set = 1
u.password_expired = 0
u.private_data_sensitive = 0
r.out_info = u
r.result = 0
out("query_user_info2_out", ndr.ndr_pack_out(r))

r2 = samr.QueryUserInfo2()
r2.in_level = 21
r2.out_info = None
r2.result = 0xC0000022  # STATUS_ACCESS_DENIED
out("query_user_info2_out_denied", ndr.ndr_pack_out(r2))

# An arm we do not decode: UserGeneralInformation (1).
r3 = samr.QueryUserInfo2()
r3.in_level = 1
i1 = samr.UserInfo1()
i1.account_name = string("alice")
i1.full_name = string("Alice Lab")
i1.primary_gid = 513
i1.description = string("")
i1.comment = string("")
r3.out_info = i1
r3.result = 0
out("query_user_info2_out_general", ndr.ndr_pack_out(r3))

# 3.1.5.9.1 SamrGetGroupsForUser (39)
r = samr.GetGroupsForUser()
r.in_user_handle = USER
out("get_groups_for_user_in", ndr.ndr_pack_in(r))
groups = samr.RidWithAttributeArray()
g1 = samr.RidWithAttribute()
g1.rid = 513
g1.attributes = 7
g2 = samr.RidWithAttribute()
g2.rid = 1107
g2.attributes = 7
groups.count = 2
groups.rids = [g1, g2]
r.out_rids = groups
r.result = 0
out("get_groups_for_user_out", ndr.ndr_pack_out(r))
