package gateway_test

import (
	"database/sql"
	"fmt"
	"math"
	"strconv"
	"testing"

	"github.com/shardgate/shardgate/topo"
)

// exactFloats are FLOATs whose text-protocol form (6 significant digits)
// is not the stored float32, and two that are.
var exactFloats = []float32{3.1415927, 16777217, 1.1754944e-38, -1.2345678, -1e-30, 0.1, 2}

// TestExactFloatBinaryProtocol: a prepared SELECT returns a FLOAT's exact
// float32, as MariaDB's binary protocol does, through a single-shard
// route, a streaming merge of ordered shard streams and an aggregate;
// the text protocol keeps MariaDB's 6-digit text. A prepared statement is
// prepared on a shard connection once, not per execution.
func TestExactFloatBinaryProtocol(t *testing.T) {
	db := shared.db(t, "service", "")
	mustExec(t, db, "create table float_t (id bigint, f float, n int, primary key (id))")
	waitFor(t, func() bool {
		_, err := db.Exec("insert into float_t (id, f, n) values (0, 0, 0)")
		return err == nil
	})
	for i, f := range exactFloats {
		mustExec(t, db, fmt.Sprintf("insert into float_t (id, f, n) values (%d, %s, %d)", i+1, strconv.FormatFloat(float64(f), 'e', -1, 32), i+1))
	}

	// What MariaDB stores and sends in its binary protocol.
	direct := map[int]float32{}
	for _, in := range shared.Get(t).Cluster.Instances {
		if in.Keyspace != "service" || in.Type != topo.TabletPrimary {
			continue
		}
		sdb := shared.shardDB(t, "service", in.Shard)
		rows, err := sdb.Query("select id, f from float_t where id > ?", 0)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id int
			var f float32
			if err := rows.Scan(&id, &f); err != nil {
				t.Fatal(err)
			}
			direct[id] = f
		}
		rows.Close()
	}
	for i, f := range exactFloats {
		if got := direct[i+1]; got != f {
			t.Fatalf("stored FLOAT of id %d: MariaDB sends %v, want %v", i+1, got, f)
		}
	}

	// Binary protocol (go-sql-driver prepares a query with arguments).
	for id, want := range direct {
		var got float32
		if err := db.QueryRow("select f from float_t where id = ?", id).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if math.Float32bits(got) != math.Float32bits(want) {
			t.Errorf("prepared point select of id %d: got %v, want %v", id, got, want)
		}
	}
	rows, err := db.Query("select id, f from float_t where id > ? order by f, id", 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		var id int
		var got float32
		if err := rows.Scan(&id, &got); err != nil {
			t.Fatal(err)
		}
		if want := direct[id]; math.Float32bits(got) != math.Float32bits(want) {
			t.Errorf("prepared ordered scatter, id %d: got %v, want %v", id, got, want)
		}
		n++
	}
	if err := rows.Err(); err != nil || n != len(direct) {
		t.Fatalf("prepared ordered scatter: %d rows, %v", n, err)
	}
	var max float32
	if err := db.QueryRow("select max(f) from float_t where id > ?", 0).Scan(&max); err != nil {
		t.Fatal(err)
	}
	if max != 16777216 {
		t.Errorf("prepared max(f): got %v, want 16777216", max)
	}

	// Text protocol: MariaDB's own text.
	if got := queryStrings(t, db, "select f from float_t where id = 1"); got[0][0] != "3.14159" {
		t.Errorf("text protocol: got %q, want MariaDB's 3.14159", got[0][0])
	}

	// The shard-side prepare only for results with a FLOAT.
	shardPrepares := func() int {
		total := 0
		for _, in := range shared.Get(t).Cluster.Instances {
			if in.Keyspace != "service" {
				continue
			}
			var name, value string
			direct, err := sql.Open("mysql", "root@tcp("+in.Mysqld.Addr()+")/")
			if err != nil {
				t.Fatal(err)
			}
			err = direct.QueryRow("show global status like 'Com_stmt_prepare'").Scan(&name, &value)
			direct.Close()
			if err != nil {
				t.Fatal(err)
			}
			v, _ := strconv.Atoi(value)
			total += v
		}
		return total
	}
	// Every prepared SELECT that is one Route runs prepared on the
	// shards (prepare_shard.go): the first round of executions prepares
	// it on the shard connections it reaches, later rounds only execute.
	for _, query := range []string{"select n from float_t where id = ?", "select f from float_t where id = ?"} {
		st, err := db.Prepare(query)
		if err != nil {
			t.Fatal(err)
		}
		round := func() {
			for i := range 3 {
				var v any
				if err := st.QueryRow(i + 1).Scan(&v); err != nil {
					t.Fatal(err)
				}
			}
		}
		round()
		before := shardPrepares()
		round()
		round()
		if got := shardPrepares() - before; got != 0 {
			t.Errorf("%s executed 6 more times: %d prepares on the shards, want 0 (prepared once per shard connection)", query, got)
		}
		st.Close()
	}
}
