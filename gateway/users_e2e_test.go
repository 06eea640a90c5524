package gateway_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"errors"
	"fmt"
	"math/big"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	mysqldriver "github.com/go-sql-driver/mysql"

	"github.com/shardgate/shardgate/acl"
	"github.com/shardgate/shardgate/gateway"
	"github.com/shardgate/shardgate/gateway/gatewaytest"
	"github.com/shardgate/shardgate/topo"
)

// The users and grants of issue 15, seen by clients: users stored in etcd
// log in to the running gateway (as `shardctl user add` stores them), a
// wrong password and an unknown user get the same 1045, and grants decide
// what each may read, write and see.

// addUser stores a user with grants (keyspace, table, privileges
// triples) in the shared cluster's etcd, as `shardctl user add` and
// `shardctl grant` do, and waits until the gateway lets it in.
func addUser(t *testing.T, addr, name, method, password string, grants ...topo.Grant) {
	t.Helper()
	store := shared.Get(t).Cluster.Store
	hash, err := acl.HashPassword(method, password)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.CreateUser(t.Context(), &topo.User{Name: name, AuthMethod: method, PasswordHash: hash, Grants: grants}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.DeleteUser(context.Background(), name) })
	db, err := sql.Open("mysql", fmt.Sprintf("%s:%s@tcp(%s)/", name, password, addr))
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxIdleConns(0) // no connection kept: they count against the user's limit
	defer db.Close()
	waitFor(t, func() bool { return db.Ping() == nil })
}

func grant(keyspace, table string, privileges ...string) topo.Grant {
	return topo.Grant{Keyspace: keyspace, Table: table, Privileges: privileges}
}

// userDB opens a handle as user on the shared gateway.
func userDB(t *testing.T, user, password, database string) *sql.DB {
	t.Helper()
	return gatewaytest.Open(t, fmt.Sprintf("%s:%s@tcp(%s)/%s", user, password, shared.Get(t).Gateway.Addr(), database))
}

// wantErr checks err is MySQL error number, with message when not empty.
func wantErr(t *testing.T, what string, err error, number uint16, message string) {
	t.Helper()
	var me *mysqldriver.MySQLError
	if !errors.As(err, &me) {
		t.Fatalf("%s: got %v, want MySQL error %d", what, err, number)
	}
	if me.Number != number || (message != "" && me.Message != message) {
		t.Fatalf("%s: got %d %q, want %d %q", what, me.Number, me.Message, number, message)
	}
}

// rootExec runs statements as root through the gateway.
func rootExec(t *testing.T, queries ...string) {
	t.Helper()
	db := shared.db(t, "service", "")
	for _, q := range queries {
		mustExec(t, db, q)
	}
}

// rowsOnShards counts the rows matching where in table on every shard of
// service, read on the shards directly.
func rowsOnShards(t *testing.T, table, where string) int {
	t.Helper()
	n := 0
	for _, shard := range []string{"-40", "40-80", "80-c0", "c0-"} {
		var c int
		if err := shared.shardDB(t, "service", shard).QueryRow("select count(*) from " + table + " where " + where).Scan(&c); err != nil {
			t.Fatal(err)
		}
		n += c
	}
	return n
}

// TestReadOnlyUserGetsRowsAnd1142OnInsert: a user with read on the
// keyspace reads, and an INSERT is refused with MySQL's 1142 naming the
// command, the user and the table; nothing reaches any shard.
func TestReadOnlyUserGetsRowsAnd1142OnInsert(t *testing.T) {
	addr := shared.Get(t).Gateway.Addr()
	rootExec(t, "create table if not exists acl_ro (id bigint primary key, v varchar(10))",
		"delete from acl_ro", "insert into acl_ro (id, v) values (1, 'one')")
	addUser(t, addr, "acl_reader", acl.NativePassword, "r-pw", grant("service", "", "read"))
	db := userDB(t, "acl_reader", "r-pw", "service")
	if got := queryStrings(t, db, "select id, v from acl_ro"); !slices.Equal(got[0], []string{"1", "one"}) || len(got) != 1 {
		t.Fatalf("select as reader: got %q, want [[1 one]]", got)
	}
	_, err := db.Exec("insert into acl_ro (id, v) values (2, 'two')")
	wantErr(t, "insert as reader", err, 1142, "INSERT command denied to user 'acl_reader'@'127.0.0.1' for table 'acl_ro'")
	if n := rowsOnShards(t, "acl_ro", "id = 2"); n != 0 {
		t.Fatalf("the refused insert left %d rows on the shards, want 0", n)
	}
	_, err = db.Exec("drop table acl_ro")
	wantErr(t, "drop as reader", err, 1142, "DROP command denied to user 'acl_reader'@'127.0.0.1' for table 'acl_ro'")
}

// TestTableGrantAndFilteredShows: a grant on one table reads that table
// only; SHOW DATABASES lists only keyspaces with a grant, SHOW TABLES
// only the tables the user may read; USE of a keyspace without any
// grant (or one that doesn't exist) is 1044.
func TestTableGrantAndFilteredShows(t *testing.T) {
	addr := shared.Get(t).Gateway.Addr()
	rootExec(t, "create table if not exists acl_t1 (id bigint primary key)", "create table if not exists acl_t2 (id bigint primary key)")
	addUser(t, addr, "acl_tabler", acl.NativePassword, "t-pw", grant("service", "acl_t1", "read"))
	db := userDB(t, "acl_tabler", "t-pw", "service")
	queryStrings(t, db, "select * from acl_t1")
	_, err := db.Query("select * from acl_t2")
	wantErr(t, "select an ungranted table", err, 1142, "SELECT command denied to user 'acl_tabler'@'127.0.0.1' for table 'acl_t2'")
	_, err = db.Query("select * from acl_t1 join acl_t2 on acl_t1.id = acl_t2.id")
	wantErr(t, "a join with an ungranted table", err, 1142, "")
	// Prepared (COM_STMT_PREPARE announces no columns of it; the
	// execution is refused).
	_, err = db.Query("select * from acl_t2 where id = ?", 1)
	wantErr(t, "a prepared select of an ungranted table", err, 1142, "")
	queryStrings(t, db, "select * from acl_t1 where id = ?", 1)

	if got := queryStrings(t, db, "show databases"); len(got) != 1 || got[0][0] != "service" {
		t.Errorf("show databases: got %q, want only service", got)
	}
	var tables []string
	for _, row := range queryStrings(t, db, "show tables") {
		tables = append(tables, row[0])
	}
	if !slices.Equal(tables, []string{"acl_t1"}) {
		t.Errorf("show tables: got %q, want [acl_t1]", tables)
	}
	for _, ks := range []string{"global", "nosuch_keyspace"} {
		_, err = db.Exec("use " + ks)
		wantErr(t, "use "+ks, err, 1044, fmt.Sprintf("Access denied for user 'acl_tabler'@'127.0.0.1' to database '%s'", ks))
	}
	err = userDB(t, "acl_tabler", "t-pw", "global").Ping()
	wantErr(t, "connect to global", err, 1044, "")
}

// TestAdminOnlyStatements: shard targeting, SHOW VITESS_TABLETS, VEXPLAIN
// and killing another user's session need the admin grant; `@replica`
// does not. Other users' sessions are hidden from SHOW PROCESSLIST.
func TestAdminOnlyStatements(t *testing.T) {
	addr := shared.Get(t).Gateway.Addr()
	rootExec(t, "create table if not exists acl_adm (id bigint primary key)")
	addUser(t, addr, "acl_plain", acl.NativePassword, "p-pw", grant("service", "", "read", "write"))
	addUser(t, addr, "acl_admin", acl.NativePassword, "a-pw", grant("service", "", "read", "admin"))
	plain := userDB(t, "acl_plain", "p-pw", "service")
	plain.SetMaxOpenConns(1)

	_, err := plain.Exec("use `service:-40`")
	wantErr(t, "use service:-40", err, 1044, "Access denied for user 'acl_plain'@'127.0.0.1' to database 'service:-40'")
	mustExec(t, plain, "use `service@replica`")
	mustExec(t, plain, "use service")
	_, err = plain.Query("show vitess_tablets")
	wantErr(t, "show vitess_tablets", err, 1227, "")
	_, err = plain.Query("vexplain plan select * from acl_adm")
	wantErr(t, "vexplain", err, 1227, "")

	root := shared.db(t, "service", "")
	rootConn, err := root.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer rootConn.Close()
	var rootID int
	if err := rootConn.QueryRowContext(t.Context(), "select connection_id()").Scan(&rootID); err != nil {
		t.Fatal(err)
	}
	for _, row := range queryStrings(t, plain, "show processlist") {
		if row[1] != "acl_plain" {
			t.Errorf("show processlist as acl_plain shows %q's session", row[1])
		}
	}
	_, err = plain.Exec(fmt.Sprintf("kill %d", rootID))
	wantErr(t, "kill root's session", err, 1095, "")
	if err := rootConn.PingContext(t.Context()); err != nil {
		t.Fatalf("root's session after a refused kill: %v", err)
	}

	admin := userDB(t, "acl_admin", "a-pw", "service:-40")
	queryStrings(t, admin, "select * from acl_adm")
	if got := queryStrings(t, admin, "show vitess_tablets"); len(got) == 0 {
		t.Error("show vitess_tablets as admin: no rows")
	}
	_, err = admin.Exec(fmt.Sprintf("kill %d", rootID))
	if err != nil {
		t.Fatalf("kill of another's session as admin: %v", err)
	}
}

// TestRevokeAppliesToOpenSession: a revoke in etcd reaches an open
// session at its next statement, without a reconnect.
func TestRevokeAppliesToOpenSession(t *testing.T) {
	addr := shared.Get(t).Gateway.Addr()
	rootExec(t, "create table if not exists acl_rev (id bigint primary key)", "delete from acl_rev")
	addUser(t, addr, "acl_writer", acl.NativePassword, "w-pw", grant("service", "", "read", "write"))
	db := userDB(t, "acl_writer", "w-pw", "service")
	conn, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(t.Context(), "insert into acl_rev (id) values (1)"); err != nil {
		t.Fatal(err)
	}
	err = shared.Get(t).Cluster.Store.UpdateUser(t.Context(), "acl_writer", func(u *topo.User) error {
		u.Grants = []topo.Grant{grant("service", "", "read")}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var last error
	waitFor(t, func() bool {
		_, last = conn.ExecContext(t.Context(), "insert into acl_rev (id) values (2)")
		return last != nil
	})
	wantErr(t, "insert after the revoke, same session", last, 1142, "")
	if n := rowsOnShards(t, "acl_rev", "id = 2"); n != 0 {
		t.Fatalf("insert after revoke left %d rows, want 0", n)
	}
}

// TestLoginFailuresLookAlike: a wrong password and an unknown user get
// the same 1045 (no user enumeration, issue 15 finding 6), with
// mysql_native_password and with caching_sha2_password over TLS and over
// RSA; the right passwords log in.
func TestLoginFailuresLookAlike(t *testing.T) {
	addr := shared.Get(t).Gateway.Addr()
	addUser(t, addr, "acl_native", acl.NativePassword, "n-pw", grant("service", "", "read"))
	sha2Addr := startUsersGateway(t, func(c *gateway.Config) {
		c.AuthMethod = acl.CachingSHA2Password
		c.TLSConfig = selfSignedTLS(t)
	})
	addUser(t, sha2Addr, "acl_sha2", acl.CachingSHA2Password, "s-pw", grant("service", "", "read"))
	for _, tc := range []struct {
		name, addr, user, password, params string
	}{
		{"native", addr, "acl_native", "n-pw", "allowNativePasswords=true"},
		{"caching_sha2 over RSA", sha2Addr, "acl_sha2", "s-pw", ""},
		{"caching_sha2 over TLS", sha2Addr, "acl_sha2", "s-pw", "tls=skip-verify"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			open := func(user, password string) error {
				db := gatewaytest.Open(t, fmt.Sprintf("%s:%s@tcp(%s)/service?%s", user, password, tc.addr, tc.params))
				return db.Ping()
			}
			if err := open(tc.user, tc.password); err != nil {
				t.Fatalf("right password: %v", err)
			}
			wrong := open(tc.user, "wrong")
			wantErr(t, "wrong password", wrong, 1045, fmt.Sprintf("Access denied for user '%s'@'127.0.0.1' (using password: YES)", tc.user))
			// An unknown user of the same name length: the whole message
			// is the same but for the name.
			unknown := open(strings.Repeat("x", len(tc.user)), "wrong")
			wantErr(t, "unknown user", unknown, 1045, fmt.Sprintf("Access denied for user '%s'@'127.0.0.1' (using password: YES)", strings.Repeat("x", len(tc.user))))
			wantErr(t, "unknown user without a password", open("nosuchuser", ""), 1045, "Access denied for user 'nosuchuser'@'127.0.0.1' (using password: NO)")
		})
	}
}

// TestNothingAnsweredBeforeLogin (finding 6): the database of the
// handshake is looked at only after the password checked out, so a
// stranger learns nothing of the keyspaces; with RequireTLS, a plain
// client is refused before its password is looked at.
func TestNothingAnsweredBeforeLogin(t *testing.T) {
	addr := shared.Get(t).Gateway.Addr()
	addUser(t, addr, "acl_early", acl.NativePassword, "e-pw", grant("service", "", "read"))
	for _, database := range []string{"nosuch_keyspace", "service:zz", "service"} {
		db := gatewaytest.Open(t, fmt.Sprintf("acl_early:wrong@tcp(%s)/%s", addr, database))
		wantErr(t, "wrong password with database "+database, db.Ping(), 1045, "")
	}
	tlsAddr := startUsersGateway(t, func(c *gateway.Config) {
		c.TLSConfig, c.RequireTLS = selfSignedTLS(t), true
	})
	for _, password := range []string{"wrong", "e-pw"} {
		db := gatewaytest.Open(t, fmt.Sprintf("acl_early:%s@tcp(%s)/service", password, tlsAddr))
		wantErr(t, "plain client, password "+password, db.Ping(), 3159, "")
	}
}

// TestPasswordForPasswordlessUser: a client sending a password for a
// user without one (`shardgate up`'s root) gets 1045; go-mysql panicked
// in DecodePasswordHex("") there and the client only saw the connection
// drop.
func TestPasswordForPasswordlessUser(t *testing.T) {
	db := gatewaytest.Open(t, fmt.Sprintf("root:something@tcp(%s)/service", shared.Get(t).Gateway.Addr()))
	wantErr(t, "root with a password", db.Ping(), 1045, "Access denied for user 'root'@'127.0.0.1' (using password: YES)")
	if err := shared.db(t, "service", "").Ping(); err != nil {
		t.Fatalf("root without a password: %v", err)
	}
}

// startUsersGateway starts a second gateway over the shared cluster.
func startUsersGateway(t *testing.T, change func(*gateway.Config)) string {
	t.Helper()
	cfg := gateway.Config{ListenAddr: "127.0.0.1:0", Topo: shared.Get(t).Cluster.Store}
	change(&cfg)
	gw, err := gateway.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := gw.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(gw.Close)
	return gw.Addr()
}

// selfSignedTLS is a server TLS config with a fresh self-signed RSA
// certificate for 127.0.0.1.
func selfSignedTLS(t *testing.T) *tls.Config {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "shardgate users test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12}
}
