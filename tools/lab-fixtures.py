#!/usr/bin/python3
"""tools/lab-fixtures.py: the lab domain's fixture users and groups (run by tools/lab).

Writes straight into a freshly provisioned sam.ldb, before the DC starts, through Samba's own
module stack (objectSid, RIDs, memberOf back links, password hashes and Kerberos keys are
made as for any add), in one process and one transaction. The accounts with passwords are
made with the library calls `samba-tool user create` makes (SamDB.newuser).

  alice       enabled; given name Alice, surname Liddell; member of engineers; RFC 2307:
              uidNumber 70001, gidNumber 70000, unixHomeDirectory /home/alice-2307,
              loginShell /bin/zsh
  bob         enabled
  carol       password expired (must change at next logon)
  dave        disabled
  zoë         enabled (non-ASCII sAMAccountName, UPN zoë@DOMAIN); given name Zoë;
              member of engineers
  manygroups  enabled; member of 300 groups mg001..mg300
  bulk0001..bulk2000
              no password: Samba's defaults for a user added without one, i.e. disabled
              (userAccountControl 546 = NORMAL_ACCOUNT|ACCOUNTDISABLE|PASSWD_NOTREQD)
  group engineers   gidNumber 70000; members alice, zoë
  group eng-all     members: group engineers (alice and zoë are nested members)
  group biggroup    members bulk0001..bulk2000
  groups mg001..mg300  member manygroups

Not idempotent: it expects a freshly provisioned domain (tools/lab reprovisions every time).
Usage: SMB_CONF=... ALICE_PASSWORD=... BOB_PASSWORD=... CAROL_PASSWORD=... DAVE_PASSWORD=...
       ZOE_PASSWORD=... MANYGROUPS_PASSWORD=... /usr/bin/python3 tools/lab-fixtures.py
(SAM_LDB defaults to the smb.conf's private dir/sam.ldb.) Must be Debian's /usr/bin/python3:
python3-samba is installed for it alone.
"""
import os
import sys
import time

import ldb
from samba.auth import system_session
from samba.param import LoadParm
from samba.samdb import SamDB

BULK_USERS = 2000
MANY_GROUPS = 300


def main():
    env = os.environ
    conf = env["SMB_CONF"]
    lp = LoadParm()
    lp.load(conf)
    sam = env.get("SAM_LDB") or os.path.join(lp.get("private dir"), "sam.ldb")
    started = time.monotonic()
    db = SamDB(url=sam, session_info=system_session(), lp=lp)
    users = "CN=Users," + str(db.domain_dn())
    domain = db.domain_dns_name()

    def dn(cn):
        return "CN=%s,%s" % (cn, users)

    def step(what):
        print("%6.1f s  %s" % (time.monotonic() - started, what), flush=True)

    db.transaction_start()
    try:
        # The accounts of the logon tests, as `samba-tool user create` makes them.
        db.newuser("alice", env["ALICE_PASSWORD"], givenname="Alice", surname="Liddell",
                   uidnumber=70001, gidnumber=70000, unixhome="/home/alice-2307",
                   loginshell="/bin/zsh")
        db.newuser("bob", env["BOB_PASSWORD"], givenname="Bob", surname="Builder")
        db.newuser("carol", env["CAROL_PASSWORD"], force_password_change_at_next_login_req=True)
        db.newuser("dave", env["DAVE_PASSWORD"])
        db.disable_account("(sAMAccountName=dave)")
        db.newuser("zoë", env["ZOE_PASSWORD"], givenname="Zoë")
        db.newuser("manygroups", env["MANYGROUPS_PASSWORD"])
        step("alice bob carol dave zoë manygroups")

        db.add({"dn": dn("engineers"), "objectClass": "group", "sAMAccountName": "engineers",
                "gidNumber": "70000", "member": [dn("alice"), dn("zoë")]})
        db.add({"dn": dn("eng-all"), "objectClass": "group", "sAMAccountName": "eng-all",
                "member": [dn("engineers")]})
        step("engineers eng-all")

        for i in range(1, MANY_GROUPS + 1):
            name = "mg%03d" % i
            db.add({"dn": dn(name), "objectClass": "group", "sAMAccountName": name,
                    "member": [dn("manygroups")]})
        step("mg001..mg%03d" % MANY_GROUPS)

        bulk = ["bulk%04d" % i for i in range(1, BULK_USERS + 1)]
        for name in bulk:
            db.add({"dn": dn(name), "objectClass": "user", "sAMAccountName": name,
                    "userPrincipalName": "%s@%s" % (name, domain)})
        step("bulk0001..bulk%04d" % BULK_USERS)
        db.add({"dn": dn("biggroup"), "objectClass": "group", "sAMAccountName": "biggroup",
                "member": [dn(name) for name in bulk]})
        step("biggroup")
        db.transaction_commit()
    except BaseException:
        db.transaction_cancel()
        raise
    step("committed")


if __name__ == "__main__":
    try:
        main()
    except (KeyError, ldb.LdbError) as e:
        sys.exit("lab-fixtures: %s: %s" % (type(e).__name__, e))
