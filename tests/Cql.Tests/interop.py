"""Interop check: the DataStax Python driver against the CQL dev server.

Usage: interop.py HOST PORT USER PASSWORD KEYSPACE
Creates ks.py_items, writes with simple and prepared statements, reads back (paging included),
reads the rows our C# client wrote to ks.cs_items, and prints one JSON document on stdout.
"""
import datetime
import decimal
import json
import sys
import uuid

from cassandra import ConsistencyLevel
from cassandra.auth import PlainTextAuthProvider
from cassandra.cluster import Cluster
from cassandra.query import SimpleStatement

host, port, user, password, keyspace = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]

cluster = Cluster([host], port=port, auth_provider=PlainTextAuthProvider(user, password), connect_timeout=10, control_connection_timeout=10)
session = cluster.connect()
out = {"protocol_version": cluster.protocol_version}

session.execute("CREATE KEYSPACE IF NOT EXISTS %s WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}" % keyspace)
session.set_keyspace(keyspace)
session.execute("""CREATE TABLE IF NOT EXISTS py_items (
    id int PRIMARY KEY, name text, amount decimal, seen timestamp, ok boolean, ratio double, big bigint, uid uuid, day date)""")

# Simple statement: the driver interpolates literals itself.
session.execute("INSERT INTO py_items (id, name, amount, ok, big) VALUES (%s, %s, %s, %s, %s)",
                (1, "it's simple", decimal.Decimal("12.50"), True, 9007199254740993))

# Prepared statement with every supported type.
insert = session.prepare("INSERT INTO py_items (id, name, amount, seen, ok, ratio, big, uid, day) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
for i in range(2, 252):
    session.execute(insert, (i, "py_%d" % i, decimal.Decimal("%d.25" % i), datetime.datetime(2024, 5, 18, 18, 17, 40, 123000),
                             i % 2 == 0, i / 4.0, -i * 1000000000000, uuid.UUID(int=i), datetime.date(2025, 12, 10)))

select_one = session.prepare("SELECT id, name, amount, seen, ok, ratio, big, uid, day FROM py_items WHERE id = ?")
row = session.execute(select_one, (7,)).one()
out["row7"] = {"id": row.id, "name": row.name, "amount": str(row.amount), "seen": row.seen.isoformat(), "ok": row.ok,
               "ratio": row.ratio, "big": row.big, "uid": str(row.uid), "day": str(row.day)}
row1 = session.execute("SELECT name, amount, ok, big FROM py_items WHERE id = 1").one()
out["row1"] = {"name": row1.name, "amount": str(row1.amount), "ok": row1.ok, "big": row1.big}

# Full scan with small pages: the driver follows paging_state.
ids = [r.id for r in session.execute(SimpleStatement("SELECT id FROM py_items", fetch_size=40, consistency_level=ConsistencyLevel.ONE))]
out["scan_count"] = len(ids)
out["scan_distinct"] = len(set(ids))

# Rows our C# client wrote.
cs = []
for r in session.execute(SimpleStatement("SELECT id, name, amount, seen, ok, ratio, big, uid, day FROM cs_items", fetch_size=3)):
    cs.append({"id": r.id, "name": r.name, "amount": str(r.amount), "seen": r.seen.isoformat() if r.seen else None, "ok": r.ok,
               "ratio": r.ratio, "big": r.big, "uid": str(r.uid), "day": str(r.day)})
out["cs_items"] = sorted(cs, key=lambda x: x["id"])

cluster.shutdown()
print(json.dumps(out))
