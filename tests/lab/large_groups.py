#!/usr/bin/python3
"""Large-group fixtures for the identity tests and benchmark, written straight into the lab
DC's database through Samba's own module stack (objectSid and the rest assigned as for any
add) in one transaction:

  biggroup     a group with COUNT member users bulk0001..bulkCOUNT (no passwords)
  manygroups   a user (password given) who is a member of GROUPS groups mg001..mgGROUPS

Idempotent: does nothing when biggroup and manygroups exist with their members.
Usage: large_groups.py SMB_CONF SAM_LDB MANYGROUPS_PASSWORD [COUNT [GROUPS]]
"""
import sys
import time

from samba.auth import system_session
from samba.param import LoadParm
from samba.samdb import SamDB
import ldb


def main():
    conf, sam, password = sys.argv[1:4]
    count = int(sys.argv[4]) if len(sys.argv) > 4 else 2000
    groups = int(sys.argv[5]) if len(sys.argv) > 5 else 300
    lp = LoadParm()
    lp.load(conf)
    db = SamDB(url=sam, session_info=system_session(), lp=lp)
    base = str(db.domain_dn())
    users = "CN=Users," + base
    domain = db.domain_dns_name()

    def members(dn):
        res = db.search(base=dn, scope=ldb.SCOPE_BASE, attrs=["member"])
        return len(res[0].get("member", [])) if res else -1

    def exists(dn):
        try:
            return len(db.search(base=dn, scope=ldb.SCOPE_BASE, attrs=["dn"])) == 1
        except ldb.LdbError:
            return False

    big = "CN=biggroup," + users
    many = "CN=manygroups," + users
    if exists(big) and members(big) == count and exists(many) and exists("CN=mg%03d,%s" % (groups, users)):
        print("large groups: already there")
        return
    started = time.time()
    db.transaction_start()
    try:
        for dn in [big, many] + ["CN=mg%03d,%s" % (i, users) for i in range(1, groups + 1)] + [
            "CN=bulk%04d,%s" % (i, users) for i in range(1, count + 1)
        ]:
            if exists(dn):
                db.delete(dn)
        for i in range(1, count + 1):
            name = "bulk%04d" % i
            db.add({
                "dn": "CN=%s,%s" % (name, users),
                "objectClass": "user",
                "sAMAccountName": name,
                "userPrincipalName": "%s@%s" % (name, domain),
            })
        db.add({
            "dn": big,
            "objectClass": "group",
            "sAMAccountName": "biggroup",
            "member": ["CN=bulk%04d,%s" % (i, users) for i in range(1, count + 1)],
        })
        db.add({
            "dn": many,
            "objectClass": "user",
            "sAMAccountName": "manygroups",
            "userPrincipalName": "manygroups@" + domain,
        })
        for i in range(1, groups + 1):
            db.add({
                "dn": "CN=mg%03d,%s" % (i, users),
                "objectClass": "group",
                "sAMAccountName": "mg%03d" % i,
                "member": [many],
            })
        db.transaction_commit()
    except Exception:
        db.transaction_cancel()
        raise
    db.setpassword("(sAMAccountName=manygroups)", password, force_change_at_next_login=False)
    db.enable_account("(sAMAccountName=manygroups)")
    print("large groups: %d members, %d groups in %.1f s" % (count, groups, time.time() - started))


if __name__ == "__main__":
    main()
