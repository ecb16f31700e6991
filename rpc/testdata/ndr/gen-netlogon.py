#!/usr/bin/python3
"""Reference NDR stubs from Samba's pidl-generated marshalling (python3-samba).

Run with Debian's /usr/bin/python3 (python3-samba installed by tools/lab):
    rpc/testdata/ndr/gen-netlogon.py > rpc/testdata/ndr/netlogon.txt
Each line: <name> <hex>. The Rust tests build the same values with
adjoin-rpc's types and compare bytes both ways.
"""
from samba.dcerpc import netlogon, lsa, samr, security
from samba import ndr


def cred(b):
    c = netlogon.netr_Credential()
    c.data = list(b)
    return c


def lsa_string(s):
    x = lsa.String()
    x.string = s
    return x


def lsa_string_large(s):
    x = lsa.StringLarge()
    x.string = s
    return x


def out(name, data):
    print(name, bytes(data).hex())


r = netlogon.netr_ServerReqChallenge()
r.in_server_name = "\\\\dc1.example.test"
r.in_computer_name = "FOO"
r.in_credentials = cred(range(1, 9))
out("req_challenge_in", ndr.ndr_pack_in(r))
r.out_return_credentials = cred(range(0xa0, 0xa8))
r.result = 0
out("req_challenge_out", ndr.ndr_pack_out(r))

r = netlogon.netr_ServerAuthenticate3()
r.in_server_name = None
r.in_account_name = "FOO$"
r.in_secure_channel_type = 2
r.in_computer_name = "FOO"
r.in_credentials = cred(range(0x10, 0x18))
r.in_negotiate_flags = 0x612FFFFF
out("authenticate3_in", ndr.ndr_pack_in(r))
r.out_return_credentials = cred(range(0x20, 0x28))
r.out_negotiate_flags = 0x610FFFFF
r.out_rid = 1105
r.result = 0xC0000022
out("authenticate3_out", ndr.ndr_pack_out(r))

info = netlogon.netr_NetworkInfo()
info.identity_info.domain_name = lsa_string("EXAMPLE")
info.identity_info.parameter_control = 0x820
info.identity_info.logon_id = 0
info.identity_info.account_name = lsa_string("alice")
info.identity_info.workstation = lsa_string("FOO")
info.challenge = list(range(0x30, 0x38))
nt = netlogon.netr_ChallengeResponse()
nt.length = 29
nt.data = list(range(0x40, 0x40 + 29))
info.nt = nt
lm = netlogon.netr_ChallengeResponse()
lm.length = 24
lm.data = list(range(0x80, 0x80 + 24))
info.lm = lm
r = netlogon.netr_LogonSamLogonEx()
r.in_server_name = "\\\\dc1.example.test"
r.in_computer_name = "FOO"
r.in_logon_level = 2
r.in_logon = info
r.in_validation_level = 3
r.in_flags = 0
out("sam_logon_ex_in", ndr.ndr_pack_in(r))

base = netlogon.netr_SamBaseInfo()
base.logon_time = 0x01d9000011112222
base.logoff_time = 0x7fffffffffffffff
base.kickoff_time = 0x7fffffffffffffff
base.last_password_change = 0x01d9000033334444
base.allow_password_change = 0x01d9000055556666
base.force_password_change = 0x7fffffffffffffff
base.account_name = lsa_string("alice")
base.full_name = lsa_string("Alice Lab")
base.logon_script = lsa_string("")
base.profile_path = lsa_string("")
base.home_directory = lsa_string("")
base.home_drive = lsa_string("")
base.logon_count = 3
base.bad_password_count = 0
base.rid = 1103
base.primary_gid = 513
groups = samr.RidWithAttributeArray()
g1 = samr.RidWithAttribute()
g1.rid = 513
g1.attributes = 7
g2 = samr.RidWithAttribute()
g2.rid = 1105
g2.attributes = 7
groups.count = 2
groups.rids = [g1, g2]
base.groups = groups
base.user_flags = 0x20
key = netlogon.netr_UserSessionKey()
key.key = list(range(0x50, 0x60))
base.key = key
base.logon_server = lsa_string_large("DC1")
base.logon_domain = lsa_string_large("EXAMPLE")
base.domain_sid = security.dom_sid("S-1-5-21-1-2-3")
lmk = netlogon.netr_LMSessionKey()
lmk.key = list(range(0x60, 0x68))
base.LMSessKey = lmk
base.acct_flags = 0x10
base.sub_auth_status = 0
base.last_successful_logon = 0
base.last_failed_logon = 0
base.failed_logon_count = 0
base.reserved = 0
sam3 = netlogon.netr_SamInfo3()
sam3.base = base
sa = netlogon.netr_SidAttr()
sa.sid = security.dom_sid("S-1-18-1")
sa.attributes = 7
sam3.sidcount = 1
sam3.sids = [sa]
r.out_validation = sam3
r.out_authoritative = 1
r.out_flags = 0
r.result = 0
# ndr_pack_out needs the in-level to pick the union arm.
out("sam_logon_ex_out", ndr.ndr_pack_out(r))

r2 = netlogon.netr_LogonSamLogonEx()
r2.in_validation_level = 3
r2.out_validation = None
r2.out_authoritative = 1
r2.out_flags = 0
r2.result = 0xC000006A
out("sam_logon_ex_out_wrong_password", ndr.ndr_pack_out(r2))

from samba.dcerpc import misc
r = netlogon.netr_DsRGetDCNameEx2()
r.in_server_unc = "\\\\dc1.example.test"
r.in_client_account = None
r.in_mask = 0
r.in_domain_name = "example.test"
r.in_domain_guid = None
r.in_site_name = None
r.in_flags = 0x40001000
out("dsr_get_dc_name_ex2_in", ndr.ndr_pack_in(r))
info = netlogon.netr_DsRGetDCNameInfo()
info.dc_unc = "\\\\dc1.example.test"
info.dc_address = "\\\\127.0.0.2"
info.dc_address_type = 1
info.domain_guid = misc.GUID("0f2c1b77-2b9c-4b2e-9d8e-1234567890ab")
info.domain_name = "example.test"
info.forest_name = "example.test"
info.dc_flags = 0xe00013fd
info.dc_site_name = "Default-First-Site-Name"
info.client_site_name = "Default-First-Site-Name"
r.out_info = info
r.result = 0
out("dsr_get_dc_name_ex2_out", ndr.ndr_pack_out(r))
