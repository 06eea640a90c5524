package gateway_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	gomysql "github.com/go-sql-driver/mysql"

	"github.com/shardgate/shardgate/gateway"
	"github.com/shardgate/shardgate/topo/vschema"
)

// checkRowsPlaced reads each id's row directly on the shard the hash
// vindex gives it, and checks that no other shard has it.
func checkRowsPlaced(t *testing.T, table string, want map[int64][]string) {
	t.Helper()
	for id, row := range want {
		owner := shardOf(t, id)
		for _, shard := range serviceShards {
			got := queryStrings(t, shared.shardDB(t, "service", shard), fmt.Sprintf("select * from %s where id = ?", table), id)
			switch {
			case shard == owner && (len(got) != 1 || !reflect.DeepEqual(got[0], row)):
				t.Errorf("id %d on its shard %s: got %v, want [%v]", id, shard, got, row)
			case shard != owner && len(got) != 0:
				t.Errorf("id %d found on shard %s, but it belongs on %s", id, shard, owner)
			}
		}
	}
}

// secondGateway starts another gateway on the shared cluster, without a
// schema tracker of its own: it knows columns only through etcd.
func secondGateway(t *testing.T) *sql.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	gw, err := gateway.New(gateway.Config{ListenAddr: "127.0.0.1:0", Topo: shared.Get(t).Cluster.Store, SchemaTrackInterval: -1})
	if err == nil {
		err = gw.Start(ctx)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(gw.Close)
	db, err := sql.Open("mysql", fmt.Sprintf("root@tcp(%s)/service", gw.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func mysqlErrNumber(err error) uint16 {
	var me *gomysql.MySQLError
	if errors.As(err, &me) {
		return me.Number
	}
	return 0
}

// TestSchemaTracking: the gateway learns a table's columns from the shards
// (after DDL through it at once, after DDL around it within the tracker's
// interval), keeps them in etcd so another gateway plans with them too,
// and uses them for column-less INSERTs, which place every row on the
// shard its vindex value names.
func TestSchemaTracking(t *testing.T) {
	db := shared.db(t, "service", "")
	mustExec(t, db, "drop table if exists sch_a")
	mustExec(t, db, "create table sch_a (id bigint primary key, name varchar(20), price decimal(10,2))")
	t.Cleanup(func() { db.Exec("drop table if exists sch_a") })

	// Right after the CREATE TABLE, on the same session: multi-row,
	// column-less, as mariadb-dump writes it.
	mustExec(t, db, "insert into sch_a values (1,'a',1.50),(2,'b',NULL),(3,'c',2.00),(4,'d',3.25),(5,'e',0)")
	mustExec(t, db, "insert into sch_a values (?, ?, ?)", 6, "f", "9.99")
	checkRowsPlaced(t, "sch_a", map[int64][]string{
		1: {"1", "a", "1.50"}, 2: {"2", "b", "NULL"}, 3: {"3", "c", "2.00"},
		4: {"4", "d", "3.25"}, 5: {"5", "e", "0.00"}, 6: {"6", "f", "9.99"},
	})
	if _, err := db.Exec("insert into sch_a values (7, 'g')"); mysqlErrNumber(err) != 1136 {
		t.Errorf("two values for three columns: got %v, want error 1136", err)
	}

	// Another gateway, which ran no DDL, plans with the columns in etcd.
	other := secondGateway(t)
	mustExec(t, other, "insert into sch_a values (8, 'h', 1)")
	checkRowsPlaced(t, "sch_a", map[int64][]string{8: {"8", "h", "1.00"}})

	// DDL around the gateways, straight on every shard: the tracker
	// notices within its interval (2 s here), and both gateways follow.
	for _, shard := range serviceShards {
		mustExec(t, shared.shardDB(t, "service", shard), "alter table sch_a add column note varchar(10) after name")
	}
	for _, g := range []*sql.DB{db, other} {
		deadline := time.Now().Add(15 * time.Second)
		for {
			_, err := g.Exec("insert into sch_a values (9, 'i', 'n', 4)")
			if err == nil {
				break
			}
			if n := mysqlErrNumber(err); n != 1136 || time.Now().After(deadline) {
				t.Fatalf("insert with the added column: got %v, want success once the tracker has read the ALTER (1136 before)", err)
			}
			time.Sleep(200 * time.Millisecond)
		}
		checkRowsPlaced(t, "sch_a", map[int64][]string{9: {"9", "i", "n", "4.00"}})
		mustExec(t, db, "delete from sch_a where id = 9")
	}

	// A vschema table no shard has: its columns are unknown, and a
	// column-less INSERT gets a clear refusal, never a guess.
	ctx := context.Background()
	store := shared.Get(t).Cluster.Store
	if err := store.UpdateVSchema(ctx, "service", func(k *vschema.Keyspace) error {
		k.Tables["sch_ghost"] = newTable("id", "hash")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = store.UpdateVSchema(ctx, "service", func(k *vschema.Keyspace) error { delete(k.Tables, "sch_ghost"); return nil })
	})
	waitFor(t, func() bool {
		_, err := db.Exec("insert into sch_ghost values (1)")
		return mysqlErrNumber(err) == 1235
	})
}

// TestTrackedColumnsInJoins: with the tables' columns tracked, a join
// evaluated at the gateway takes unqualified columns, * and ORDER BY a
// position of *, and a UNION across shards takes *: each answered as one
// MariaDB would (checked against the same rows in the unsharded keyspace).
func TestTrackedColumnsInJoins(t *testing.T) {
	svc, one := shared.db(t, "service", ""), shared.db(t, "global", "")
	for _, db := range []*sql.DB{svc, one} {
		mustExec(t, db, "drop table if exists tj_item")
		mustExec(t, db, "drop table if exists tj_review")
		mustExec(t, db, "create table tj_item (id bigint primary key, name varchar(20), price int)")
		mustExec(t, db, "create table tj_review (rid bigint primary key, body varchar(20), stars int)")
		mustExec(t, db, "insert into tj_item values (1, 'pen', 3), (2, 'ink', 5), (3, 'pad', 7), (4, 'cap', 9)")
		mustExec(t, db, "insert into tj_review values (10, 'pen', 4), (11, 'pad', 2), (12, 'pen', 5), (13, 'nib', 1)")
	}
	t.Cleanup(func() {
		for _, db := range []*sql.DB{svc, one} {
			db.Exec("drop table if exists tj_item")
			db.Exec("drop table if exists tj_review")
		}
	})
	for _, q := range []string{
		"select name, stars from tj_item i join tj_review r on i.name = r.body where price > 1 order by stars",
		"select * from tj_item i join tj_review r on i.name = r.body order by 5, 4",
		"select r.*, i.price from tj_item i join tj_review r on i.name = r.body order by rid",
		"select * from tj_item union select rid, body, stars from tj_review order by 1",
	} {
		want := queryStrings(t, one, q)
		if got := queryStrings(t, svc, q); !reflect.DeepEqual(got, want) {
			t.Errorf("%s\ngot  %v\nwant %v (one MariaDB's answer)", q, got, want)
		}
	}
	if _, err := svc.Query("select id, name from tj_item i join tj_item j on i.name = j.name"); mysqlErrNumber(err) != 1052 {
		t.Errorf("a column both tables have: got %v, want error 1052", err)
	}
}
