package gateway_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/topo"
)

// rawConn logs in with go-mysql's client, which keeps every column
// definition's and row's packet bytes (Field.Data, Resultset.RowDatas):
// what a client receives, byte for byte.
func rawConn(t *testing.T, addr, db string) *client.Conn {
	t.Helper()
	c, err := client.ConnectWithDialer(context.Background(), "tcp", addr, "root", "", db,
		(&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		func(c *client.Conn) error { return c.SetCollation("utf8mb4_general_ci") })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// shardPrimaryConns are raw connections to every primary of keyspace.
func shardPrimaryConns(t *testing.T, keyspace string) []*client.Conn {
	var out []*client.Conn
	for _, in := range shared.Get(t).Cluster.Instances {
		if in.Keyspace == keyspace && in.Type == topo.TabletPrimary {
			out = append(out, rawConn(t, in.Mysqld.Addr(), keyspace))
		}
	}
	return out
}

// packets are a text result's column definitions and rows as received.
type packets struct {
	fields [][]byte
	rows   [][]byte
}

func resultPackets(r *mysql.Result) packets {
	var p packets
	if r == nil || r.Resultset == nil {
		return p
	}
	for _, f := range r.Fields {
		p.fields = append(p.fields, bytes.Clone(f.Data))
	}
	for _, row := range r.RowDatas {
		p.rows = append(p.rows, bytes.Clone(row))
	}
	return p
}

// TestForwardedResultsAreTheShards: a text-protocol SELECT through a
// single-shard route and through an unordered scatter returns exactly
// the packets MariaDB sends a client directly — column definitions and
// rows byte for byte — for every column type, NULLs, ” and other
// character sets, an empty result, and a row of 17 MiB (over one 16 MiB
// wire packet).
func TestForwardedResultsAreTheShards(t *testing.T) {
	db := shared.db(t, "service", "")
	mustExec(t, db, `create table fwd_types (id bigint primary key, i int, u bigint unsigned, d decimal(20,6),
		f float, dbl double, dt datetime(6), dat date, tm time(2), yr year, s varchar(40),
		l varchar(40) character set latin1, b varbinary(40), bl longblob, j json, e enum('a','b'), bt bit(8))`)
	waitFor(t, func() bool {
		_, err := db.Exec("insert into fwd_types (id) values (2)")
		return err == nil
	})
	mustExec(t, db, `insert into fwd_types values (1, -7, 18446744073709551615, -12345678901234.123456,
		3.1415927, 2.718281828459045, '2024-02-29 23:59:59.123456', '1000-01-01', '-838:59:59.99', 2155,
		'snow ☃ 🦄', 'façade', x'00ff10', x'', '{"a": [1, null]}', 'b', b'10100101')`)
	mustExec(t, db, `insert into fwd_types (id, s, l, b) values (3, '', '', '')`)
	mustExec(t, db, `insert into fwd_types (id, bl) values (4, repeat('x', 17825792))`)

	gw := rawConn(t, shared.Get(t).Gateway.Addr(), "service")
	shards := shardPrimaryConns(t, "service")
	for _, id := range []int{1, 2, 3, 4, 99} {
		q := fmt.Sprintf("select * from fwd_types where id = %d", id)
		got, err := gw.Execute(q)
		if err != nil {
			t.Fatalf("%s through the gateway: %v", q, err)
		}
		var want packets
		for _, sc := range shards {
			r, err := sc.Execute(q)
			if err != nil {
				t.Fatalf("%s on a shard: %v", q, err)
			}
			if p := resultPackets(r); len(p.rows) > 0 || want.fields == nil {
				want = p
			}
		}
		comparePackets(t, q, resultPackets(got), want)
	}

	// An unordered scatter: each shard's rows as it sent them, in any
	// order of shards.
	const q = "select * from fwd_types"
	got, err := gw.Execute(q)
	if err != nil {
		t.Fatalf("%s through the gateway: %v", q, err)
	}
	var want packets
	for _, sc := range shards {
		r, err := sc.Execute(q)
		if err != nil {
			t.Fatal(err)
		}
		p := resultPackets(r)
		want.fields = p.fields
		want.rows = append(want.rows, p.rows...)
	}
	g := resultPackets(got)
	slices.SortFunc(g.rows, bytes.Compare)
	slices.SortFunc(want.rows, bytes.Compare)
	comparePackets(t, q, g, want)
}

func comparePackets(t *testing.T, q string, got, want packets) {
	t.Helper()
	if !slices.EqualFunc(got.fields, want.fields, bytes.Equal) {
		t.Errorf("%s: column definitions differ from the shard's:\ngot  %q\nwant %q", q, got.fields, want.fields)
	}
	if len(got.rows) != len(want.rows) {
		t.Fatalf("%s: got %d rows, want %d", q, len(got.rows), len(want.rows))
	}
	for i := range got.rows {
		if !bytes.Equal(got.rows[i], want.rows[i]) {
			g, w := got.rows[i], want.rows[i]
			t.Errorf("%s: row %d differs from the shard's (%d bytes, want %d): got %q..., want %q...", q, i, len(g), len(w), g[:min(len(g), 64)], w[:min(len(w), 64)])
		}
	}
}

// TestForwardedErrorMidStream: a shard statement that fails after
// sending rows (a scalar subquery that finds two rows for the fourth
// id) gives the client the rows before it and then the shard's error
// (1242), as MariaDB does directly, and the connection keeps serving.
func TestForwardedErrorMidStream(t *testing.T) {
	db := shared.db(t, "service", "")
	mustExec(t, db, "create table fwd_mid (id bigint primary key, v int)")
	shard := "-40"
	target := shared.db(t, "service:"+shard, "")
	waitFor(t, func() bool {
		_, err := target.Exec("insert into fwd_mid (id, v) values (1, 1), (2, 2), (3, 3), (4, 4), (5, 5)")
		return err == nil
	})
	const q = "select id, (select 1 from dual union select 2 from dual where fwd_mid.id > 3) from fwd_mid order by id"
	type outcome struct {
		ids  []int
		code uint16
	}
	read := func(db *sql.DB) outcome {
		var o outcome
		rows, err := db.Query(q)
		if err != nil {
			return outcome{code: errNumber(err)}
		}
		defer rows.Close()
		for rows.Next() {
			var id int
			var v sql.NullInt64
			if err := rows.Scan(&id, &v); err != nil {
				t.Fatal(err)
			}
			o.ids = append(o.ids, id)
		}
		o.code = errNumber(rows.Err())
		return o
	}
	direct := read(shared.shardDB(t, "service", shard))
	through := read(target)
	if direct.code != 1242 {
		t.Fatalf("directly: error %d, want 1242 (the test's premise)", direct.code)
	}
	if !slices.Equal(through.ids, direct.ids) || through.code != direct.code {
		t.Errorf("%s through the gateway: rows %v then error %d; directly: rows %v then error %d", q, through.ids, through.code, direct.ids, direct.code)
	}
	var one int
	if err := target.QueryRow("select 1").Scan(&one); err != nil || one != 1 {
		t.Errorf("select 1 after the failed statement: got %d, %v", one, err)
	}
}
