package gateway_test

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/shardgate/shardgate/gateway"
	"github.com/shardgate/shardgate/topo/vschema"
)

// setUpSequence creates a sequence table in global and a sharded table in
// service whose id comes from it, both named in the vschemas.
func setUpSequence(t *testing.T, seq, table string) {
	t.Helper()
	ctx := context.Background()
	global := shared.db(t, "global", "")
	mustExec(t, global, "create table "+seq+" (id bigint, next_id bigint, cache bigint, primary key (id)) comment 'vitess_sequence'")
	mustExec(t, global, "insert into "+seq+" (id, next_id, cache) values (0, 1, 50)")
	st := shared.Get(t).Cluster.Store
	if err := st.UpdateVSchema(ctx, "global", func(k *vschema.Keyspace) error {
		if k.Tables == nil {
			k.Tables = map[string]*vschema.Table{}
		}
		k.Tables[seq] = &vschema.Table{Type: vschema.TypeSequence}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := st.UpdateVSchema(ctx, "service", func(k *vschema.Keyspace) error {
		tb := newTable("id", "hash")
		tb.AutoIncrement = &vschema.AutoIncrement{Column: "id", Sequence: seq}
		if k.Tables == nil {
			k.Tables = map[string]*vschema.Table{}
		}
		k.Tables[table] = tb
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	svc := shared.db(t, "service", "")
	waitFor(t, func() bool {
		_, err := svc.Exec("create table " + table + " (id bigint not null, v varchar(20), primary key (id))")
		return err == nil
	})
}

// TestSequenceIDs: inserts that omit the id (or give NULL) get ids from
// the sequence; LastInsertId and SELECT LAST_INSERT_ID() report the first
// id of the statement, as MySQL does; explicit ids are kept.
func TestSequenceIDs(t *testing.T) {
	setUpSequence(t, "ids_seq", "ids_t")
	db := shared.db(t, "service", "")
	db.SetMaxOpenConns(1)

	res := mustExec(t, db, "insert into ids_t (v) values ('a'), ('b'), ('c')")
	first, err := res.LastInsertId()
	if err != nil || first < 1 {
		t.Fatalf("LastInsertId: got %d, %v; want a generated id", first, err)
	}
	if got := queryStrings(t, db, "select last_insert_id()"); got[0][0] != fmt.Sprint(first) {
		t.Errorf("select last_insert_id(): got %v, want %d", got, first)
	}
	got := queryStrings(t, db, "select id, v from ids_t order by id")
	want := [][]string{{fmt.Sprint(first), "a"}, {fmt.Sprint(first + 1), "b"}, {fmt.Sprint(first + 2), "c"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("rows: got %v, want %v (consecutive ids in row order)", got, want)
	}

	res = mustExec(t, db, "insert into ids_t (id, v) values (?, ?)", nil, "d")
	if id, _ := res.LastInsertId(); id != first+3 {
		t.Errorf("NULL id through a prepared statement: LastInsertId got %d, want %d", id, first+3)
	}
	mustExec(t, db, "insert into ids_t (id, v) values (100000, 'explicit')")
	if got := queryStrings(t, db, "select v from ids_t where id = 100000"); len(got) != 1 || got[0][0] != "explicit" {
		t.Errorf("explicit id: got %v", got)
	}

	got = queryStrings(t, db, "select next 10 values from ids_seq")
	if next, err := strconv.ParseInt(got[0][0], 10, 64); err != nil || next <= first+3 {
		t.Errorf("select next 10 values: got %v, want an id past %d", got, first+3)
	}
	_, err = db.Exec("select next 2 values from ids_t")
	wantMySQLError(t, err, 1146, "select next values from a table that is not a sequence")
}

// TestSequenceTwoGatewaysAndRestart: two gateways inserting 10,000 rows
// each at once produce 20,000 distinct ids; a restarted gateway reuses none.
func TestSequenceTwoGatewaysAndRestart(t *testing.T) {
	setUpSequence(t, "many_seq", "many_t")
	ctx := context.Background()
	second, err := gateway.New(gateway.Config{ListenAddr: "127.0.0.1:0", Topo: shared.Get(t).Cluster.Store})
	if err == nil {
		err = second.Start(ctx)
	}
	if err != nil {
		t.Fatal(err)
	}
	insert := func(addr string, n int) error {
		db := openGateway(t, addr)
		for done := 0; done < n; {
			batch := min(100, n-done)
			q := "insert into many_t (v) values " + strings.TrimSuffix(strings.Repeat("('x'), ", batch), ", ")
			if _, err := db.Exec(q); err != nil {
				return err
			}
			done += batch
		}
		return nil
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, addr := range []string{shared.Get(t).Gateway.Addr(), second.Addr()} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = insert(addr, 10000)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	db := shared.db(t, "service", "")
	if got := queryStrings(t, db, "select count(*) from many_t"); len(got) != 1 || got[0][0] != "20000" {
		t.Fatalf("count: got %v, want 20000 rows", got)
	}
	assertDistinctIDs(t, "many_t", 20000)

	// Restart the second gateway: its unused cached ids are skipped, never reused.
	second.Close()
	third, err := gateway.New(gateway.Config{ListenAddr: "127.0.0.1:0", Topo: shared.Get(t).Cluster.Store})
	if err == nil {
		err = third.Start(ctx)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer third.Close()
	if err := insert(third.Addr(), 500); err != nil {
		t.Fatal(err)
	}
	if err := insert(shared.Get(t).Gateway.Addr(), 500); err != nil {
		t.Fatal(err)
	}
	assertDistinctIDs(t, "many_t", 21000)
}

// assertDistinctIDs counts ids over every shard directly: n rows, n ids.
func assertDistinctIDs(t *testing.T, table string, n int) {
	t.Helper()
	seen := map[string]bool{}
	for _, shard := range serviceShards {
		for _, row := range queryStrings(t, shared.shardDB(t, "service", shard), "select id from "+table) {
			if seen[row[0]] {
				t.Fatalf("id %s appears twice", row[0])
			}
			seen[row[0]] = true
		}
	}
	if len(seen) != n {
		t.Fatalf("got %d distinct ids on the shards, want %d", len(seen), n)
	}
}

// openGateway opens service on a gateway other than the shared one.
func openGateway(t *testing.T, addr string) *sql.DB {
	t.Helper()
	db, err := sql.Open("mysql", "root@tcp("+addr+")/service")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
