"""PyMySQL against a shardgate gateway: CRUD with parameters, executemany,
transactions, unicode and NULLs, in each keyspace given. compat/clients_test.go
runs it; any failure raises (exit status 1).

Usage: python3 compat.py host port user password keyspace... [tls=PORT]
"""
import decimal
import ssl
import sys

import pymysql


def check(ok, what):
    if not ok:
        raise AssertionError(what)


def run(host, port, user, password, ks):
    conn = pymysql.connect(host=host, port=port, user=user, password=password,
                           database=ks, charset="utf8mb4", autocommit=True)
    try:
        cur = conn.cursor()
        cur.execute("DROP TABLE IF EXISTS py_items")
        cur.execute("CREATE TABLE py_items (id BIGINT PRIMARY KEY, name VARCHAR(50), price DECIMAL(8,2))")
        cur.execute("INSERT INTO py_items (id, name, price) VALUES (%s, %s, %s)", (1, "caf\u00e9 \U0001F600", decimal.Decimal("9.99")))
        cur.executemany("INSERT INTO py_items (id, name, price) VALUES (%s, %s, %s)",
                        [(i, "n%d" % i, None) for i in range(2, 52)])
        cur.execute("SELECT name, price FROM py_items WHERE id = %s", (1,))
        row = cur.fetchone()
        check(row == ("caf\u00e9 \U0001F600", decimal.Decimal("9.99")), "row 1: %r" % (row,))
        cur.execute("SELECT count(*) FROM py_items WHERE price IS NULL")
        check(cur.fetchone()[0] == 50, "NULL prices")
        cur.execute("SELECT id FROM py_items ORDER BY id DESC LIMIT 3")
        check([r[0] for r in cur.fetchall()] == [51, 50, 49], "order by limit")
        check(cur.execute("UPDATE py_items SET price = 1 WHERE id IN (2, 3, 4)") == 3, "update count")
        check(cur.execute("DELETE FROM py_items WHERE id = 51") == 1, "delete count")

        conn.begin()
        cur.execute("INSERT INTO py_items (id, name) VALUES (100, 'rolled back')")
        conn.rollback()
        conn.begin()
        cur.execute("INSERT INTO py_items (id, name) VALUES (101, 'kept')")
        conn.commit()
        cur.execute("SELECT id FROM py_items WHERE id >= 100")
        check([r[0] for r in cur.fetchall()] == [101], "transactions")

        # Warnings reach the client with SHOW WARNINGS.
        cur.execute("SELECT 1/0")
        check(cur.fetchone()[0] is None, "1/0 is NULL")
        cur.execute("SHOW WARNINGS")
        w = cur.fetchall()
        check(len(w) == 1 and w[0][1] == 1365, "SHOW WARNINGS: %r" % (w,))
        conn.ping()
    finally:
        conn.close()

    # A client that logs in with latin1 (no SET NAMES of its own) sends and
    # receives latin1, as from MariaDB.
    conn = pymysql.connect(host=host, port=port, user=user, password=password,
                           database=ks, charset="latin1", autocommit=True)
    try:
        cur = conn.cursor()
        cur.execute("SELECT @@character_set_client, @@character_set_results")
        check(cur.fetchone() == ("latin1", "latin1"), "latin1 session")
        cur.execute("INSERT INTO py_items (id, name) VALUES (%s, %s)", (300, "caf\u00e9"))
        cur.execute("SELECT name, hex(name) FROM py_items WHERE id = 300")
        row = cur.fetchone()
        check(row == ("caf\u00e9", "636166C3A9"), "latin1 round trip: %r" % (row,))
        cur.execute("SELECT name FROM py_items WHERE id = 1")
        check(cur.fetchone()[0] == "caf\u00e9 ?", "utf8mb4 row read as latin1")
    finally:
        conn.close()
    print("ok " + ks)


def tls(host, port, user, password, ks):
    """A --require-tls gateway with caching_sha2_password: TLS connects
    (PyMySQL's ssl= is sslMode=REQUIRED), a plain connection gets 3159."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    conn = pymysql.connect(host=host, port=port, user=user, password=password, database=ks, ssl=ctx)
    try:
        cur = conn.cursor()
        cur.execute("SELECT 1")
        check(cur.fetchone() == (1,), "select 1 over TLS")
    finally:
        conn.close()
    try:
        pymysql.connect(host=host, port=port, user=user, password=password, database=ks)
        raise AssertionError("plain connection to a --require-tls gateway succeeded")
    except pymysql.err.OperationalError as e:
        check(e.args[0] == 3159, "plain connection: %r" % (e.args,))
    print("ok tls")


def main():
    host, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    keyspaces = sys.argv[5:]
    tls_port = None
    if keyspaces and keyspaces[-1].startswith("tls="):
        tls_port = int(keyspaces.pop()[4:])
    for ks in keyspaces:
        run(host, port, user, password, ks)
    if tls_port:
        tls(host, tls_port, user, password, keyspaces[-1])


if __name__ == "__main__":
    main()
