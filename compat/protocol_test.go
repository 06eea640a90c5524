package compat_test

import (
	"bytes"
	"context"
	"crypto/sha1"
	"database/sql"
	"errors"
	"strings"
	"testing"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/go-mysql-org/go-mysql/mysql"
	drv "github.com/go-sql-driver/mysql"
)

// wantMySQLError fails unless err is a MySQL error with the given number.
func wantMySQLError(t *testing.T, err error, number uint16) {
	t.Helper()
	var me *drv.MySQLError
	var ge *mysql.MyError
	switch {
	case errors.As(err, &me) && me.Number == number:
	case errors.As(err, &ge) && ge.Code == number:
	default:
		t.Fatalf("got error %v, want MySQL error %d", err, number)
	}
}

// TestMultiStatements: statements of one COM_QUERY run in order and stop
// at the first error, as in MySQL.
func TestMultiStatements(t *testing.T) {
	for _, ks := range []string{unsharded, sharded} {
		t.Run(ks, func(t *testing.T) {
			db := shared.db(t, ks, "multiStatements=true")
			mustExec(t, db, "drop table if exists multi_t")
			mustExec(t, db, "create table multi_t (id bigint primary key, v int)")
			_, err := db.Exec("insert into multi_t (id, v) values (1, 1); insert into multi_t (id, v) values (2, 2); insert into no_such_table (id) values (3); insert into multi_t (id, v) values (4, 4)")
			wantMySQLError(t, err, 1146)
			if got := queryStrings(t, db, "select id from multi_t order by id"); len(got) != 2 || got[0][0] != "1" || got[1][0] != "2" {
				t.Fatalf("rows after a failing multi-statement: got %v, want [[1] [2]]", got)
			}
			// Several result sets in one round trip.
			rows, err := db.Query("select 1; select id from multi_t order by id; select 'x'")
			if err != nil {
				t.Fatal(err)
			}
			var sets [][]string
			for {
				var set []string
				for rows.Next() {
					var v string
					if err := rows.Scan(&v); err != nil {
						t.Fatal(err)
					}
					set = append(set, v)
				}
				sets = append(sets, set)
				if !rows.NextResultSet() {
					break
				}
			}
			rows.Close()
			if got := strings.Join(flatten(sets), ","); got != "1,|,1,2,|,x" {
				t.Fatalf("result sets: got %v, want [[1] [1 2] [x]]", sets)
			}
		})
	}
}

func flatten(sets [][]string) []string {
	var out []string
	for i, s := range sets {
		if i > 0 {
			out = append(out, "|")
		}
		out = append(out, s...)
	}
	return out
}

// TestLargePackets: statements and rows over 16 MiB (split into several
// wire packets) in the binary and text protocol, and a statement over the
// shards' max_allowed_packet (64 MiB) is an error, not a hang. The blob
// is written as a prepared statement's argument (a 17 MiB COM_STMT_EXECUTE):
// a 17 MiB text INSERT works too but takes about a minute under the race
// detector (docs/NOTES.md).
func TestLargePackets(t *testing.T) {
	const size = 17 << 20
	blob := bytes.Repeat([]byte("0123456789abcdef"), size/16)
	blob[0], blob[len(blob)-1] = 0, 0xff
	sum := sha1.Sum(blob)
	for _, ks := range []string{unsharded, sharded} {
		t.Run(ks, func(t *testing.T) {
			db := shared.db(t, ks, "")
			mustExec(t, db, "drop table if exists big_t")
			mustExec(t, db, "create table big_t (id bigint primary key, b longblob)")
			mustExec(t, db, "insert into big_t (id, b) values (?, ?)", 1, blob)
			for _, q := range []string{"select b from big_t where id = ?", "select b from big_t where id = 1"} {
				var got []byte
				var err error
				if strings.Contains(q, "?") {
					err = db.QueryRow(q, 1).Scan(&got) // binary protocol
				} else {
					err = db.QueryRow(q).Scan(&got) // text protocol
				}
				if err != nil || sha1.Sum(got) != sum {
					t.Fatalf("%s: read back %d bytes (err %v), want the %d written", q, len(got), err, len(blob))
				}
			}
			if ks != unsharded {
				return
			}
			var maxPacket int64
			if err := db.QueryRow("select @@max_allowed_packet").Scan(&maxPacket); err != nil {
				t.Fatal(err)
			}
			over := bytes.Repeat([]byte{'a'}, int(maxPacket)+1024)
			// Text protocol: the gateway refuses it before parsing it.
			big := shared.db(t, ks, "maxAllowedPacket=134217728&interpolateParams=true")
			_, err := big.Exec("insert into big_t (id, b) values (?, ?)", 3, over)
			wantMySQLError(t, err, 1153)
			if got := queryStrings(t, db, "select count(*) from big_t"); got[0][0] != "1" {
				t.Fatalf("rows after the refused insert: got %v, want 1", got)
			}
		})
	}
}

// TestWarnings: the warning count in OK and EOF packets and SHOW WARNINGS
// after a statement whose shards reported warnings.
func TestWarnings(t *testing.T) {
	for _, ks := range []string{unsharded, sharded} {
		t.Run(ks, func(t *testing.T) {
			c := rawConn(t, shared.Get(t).Gateway.Addr(), user, password, ks)
			mustRaw(t, c, "drop table if exists warn_t")
			mustRaw(t, c, "create table warn_t (id bigint primary key, s varchar(3))")
			res := mustRaw(t, c, "insert ignore into warn_t (id, s) values (1, 'toolong')")
			if res.Warnings != 1 {
				t.Errorf("insert ignore with a truncation: got %d warnings, want 1", res.Warnings)
			}
			res = mustRaw(t, c, "show warnings")
			if len(res.Values) != 1 || res.Values[0][1].AsInt64() != 1265 {
				t.Errorf("show warnings after the insert: got %d rows, want one with code 1265", len(res.Values))
			}
			res = mustRaw(t, c, "select 1/0 from warn_t where id = 1")
			if res.Warnings != 1 {
				t.Errorf("select 1/0: got %d warnings, want 1", res.Warnings)
			}
			res = mustRaw(t, c, "select 1")
			if res.Warnings != 0 {
				t.Errorf("select 1 after a warning: got %d warnings, want 0", res.Warnings)
			}
			if res = mustRaw(t, c, "show warnings"); len(res.Values) != 0 {
				t.Errorf("show warnings after a clean statement: got %d rows, want 0", len(res.Values))
			}
		})
	}
}

func mustRaw(t *testing.T, c *client.Conn, query string) *mysql.Result {
	t.Helper()
	res, err := c.Execute(query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return res
}

// TestSetNames: after SET NAMES latin1 the client sends and receives
// latin1, through the gateway exactly as directly (the gateway replays the
// setting on the shard connections).
func TestSetNames(t *testing.T) {
	for _, ks := range []string{unsharded, sharded} {
		t.Run(ks, func(t *testing.T) {
			db := shared.db(t, ks, "")
			mustExec(t, db, "drop table if exists names_t")
			mustExec(t, db, "create table names_t (id bigint primary key, s varchar(20)) default charset utf8mb4")
			mustExec(t, db, "insert into names_t (id, s) values (1, 'héllo')")
			var direct []*client.Conn
			for _, in := range shared.Get(t).Cluster.Instances {
				if in.Keyspace == ks {
					direct = append(direct, rawConn(t, in.Mysqld.Addr(), "root", "", ks))
				}
			}
			gw := rawConn(t, shared.Get(t).Gateway.Addr(), user, password, ks)
			for _, c := range append(direct, gw) {
				mustRaw(t, c, "set names latin1")
			}
			// 0xe9 is é in latin1.
			for _, query := range []string{"select s, length(s), char_length(s), @@character_set_client, @@character_set_results from names_t where id = 1", "select 'caf\xe9' as v, hex('\xe9') as h"} {
				want := directResult(t, direct, query, nil)
				compareResults(t, "latin1 "+query, gw, want, func(c *client.Conn) (*mysql.Result, error) { return c.Execute(query) })
				if got, _ := gw.Execute(query); got != nil && len(got.Values) == 1 && !bytes.Contains(got.Values[0][0].AsString(), []byte{0xe9}) {
					t.Errorf("%s: got %q, want latin1 bytes", query, got.Values[0][0].AsString())
				}
			}
			mustRaw(t, gw, "set names utf8mb4")
			if got := mustRaw(t, gw, "select s from names_t where id = 1"); string(got.Values[0][0].AsString()) != "héllo" {
				t.Errorf("after SET NAMES utf8mb4: got %q", got.Values[0][0].AsString())
			}
		})
	}
}

// TestResetConnection: COM_RESET_CONNECTION rolls back the open
// transaction and forgets session settings and user variables, keeping
// the database, as pools expect.
func TestResetConnection(t *testing.T) {
	for _, ks := range []string{unsharded, sharded} {
		t.Run(ks, func(t *testing.T) {
			c := rawConn(t, shared.Get(t).Gateway.Addr(), user, password, ks)
			mustRaw(t, c, "drop table if exists reset_t")
			mustRaw(t, c, "create table reset_t (id bigint primary key)")
			mustRaw(t, c, "set @x = 42, sql_mode = 'ANSI_QUOTES', time_zone = '+05:00'")
			mustRaw(t, c, "begin")
			mustRaw(t, c, "insert into reset_t (id) values (1)")
			if err := command(c, mysql.COM_RESET_CONNECTION, nil); err != nil {
				t.Fatal("COM_RESET_CONNECTION:", err)
			}
			res := mustRaw(t, c, "select @x, @@sql_mode like '%ANSI_QUOTES%', @@time_zone, database()")
			got := []string{valueString(res, 0, 0), valueString(res, 0, 1), valueString(res, 0, 2), valueString(res, 0, 3)}
			if got[0] != "NULL" || !strings.HasPrefix(got[1], "0 ") || strings.Contains(got[2], "+05:00") || !strings.Contains(got[3], ks) {
				t.Errorf("after reset: @x, ansi_quotes, time_zone, database() = %v; want NULL, 0, not +05:00, %s", got, ks)
			}
			if res := mustRaw(t, c, "select count(*) from reset_t"); res.Values[0][0].AsInt64() != 0 {
				t.Errorf("the open transaction's insert survived the reset")
			}
		})
	}
}

// command sends one command packet and reads an OK (or returns the ERR).
func command(c *client.Conn, cmd byte, payload []byte) error {
	c.ResetSequence()
	if err := c.WritePacket(append([]byte{0, 0, 0, 0, cmd}, payload...)); err != nil {
		return err
	}
	return readOK(c)
}

func readOK(c *client.Conn) error {
	pkt, err := c.ReadPacket()
	if err != nil {
		return err
	}
	switch {
	case len(pkt) > 0 && pkt[0] == mysql.OK_HEADER:
		return nil
	case len(pkt) > 3 && pkt[0] == mysql.ERR_HEADER:
		me := &mysql.MyError{Code: uint16(pkt[1]) | uint16(pkt[2])<<8}
		if len(pkt) > 9 && pkt[3] == '#' {
			me.State, me.Message = string(pkt[4:9]), string(pkt[9:])
		}
		return me
	}
	return errors.New("unexpected packet")
}

// TestChangeUser: COM_CHANGE_USER with the right password (after the
// gateway's auth switch) resets the session and selects the database
// named; a wrong one is ER_ACCESS_DENIED_ERROR.
func TestChangeUser(t *testing.T) {
	changeUser := func(c *client.Conn, u, pw, db string) error {
		var p []byte
		p = append(p, u...)
		p = append(p, 0, 0) // no auth response: the gateway always switches
		p = append(p, db...)
		p = append(p, 0, 45, 0) // utf8mb4_general_ci
		p = append(p, mysql.AUTH_NATIVE_PASSWORD...)
		p = append(p, 0)
		c.ResetSequence()
		if err := c.WritePacket(append([]byte{0, 0, 0, 0, mysql.COM_CHANGE_USER}, p...)); err != nil {
			return err
		}
		sw, err := c.ReadPacket()
		if err != nil {
			return err
		}
		if len(sw) < 2 || sw[0] != mysql.EOF_HEADER {
			return errors.New("no auth switch request")
		}
		name, salt, _ := bytes.Cut(sw[1:], []byte{0})
		if string(name) != mysql.AUTH_NATIVE_PASSWORD || len(salt) < 20 {
			return errors.New("bad auth switch request")
		}
		if err := c.WritePacket(append([]byte{0, 0, 0, 0}, mysql.CalcNativePassword(salt[:20], []byte(pw))...)); err != nil {
			return err
		}
		return readOK(c)
	}
	c := rawConn(t, shared.Get(t).Gateway.Addr(), user, password, unsharded)
	mustRaw(t, c, "set @x = 1")
	if err := changeUser(c, user, password, sharded); err != nil {
		t.Fatal("COM_CHANGE_USER:", err)
	}
	res := mustRaw(t, c, "select @x, database()")
	if valueString(res, 0, 0) != "NULL" || !strings.Contains(valueString(res, 0, 1), sharded) {
		t.Errorf("after change user: @x, database() = %s, %s; want NULL, %s", valueString(res, 0, 0), valueString(res, 0, 1), sharded)
	}
	err := changeUser(c, user, "wrong", unsharded)
	wantMySQLError(t, err, mysql.ER_ACCESS_DENIED_ERROR)
}

// TestConnectionAttributes: clients that send connection attributes
// (go-sql-driver's connectionAttributes, and every driver above) connect.
func TestConnectionAttributes(t *testing.T) {
	db := shared.db(t, sharded, "connectionAttributes=program_name:compat,team:shardgate")
	if err := db.PingContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	var one int
	if err := db.QueryRow("select 1").Scan(&one); err != nil {
		t.Fatal(err)
	}
}

var _ = sql.ErrNoRows
