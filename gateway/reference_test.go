package gateway_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/shardgate/shardgate/topo/vschema"
)

// TestReferenceTableWritesReachEveryCopy: writes through the gateway to a
// reference table reach its source table in global and the copy on every
// shard; reads answer from a copy; a rolled-back transaction leaves no copy
// changed.
func TestReferenceTableWritesReachEveryCopy(t *testing.T) {
	ctx := context.Background()
	ddl := "create table ref_rates (code varchar(3) primary key, rate decimal(10,4))"
	mustExec(t, shared.db(t, "global", ""), ddl)
	if err := shared.Get(t).Cluster.Store.UpdateVSchema(ctx, "service", func(k *vschema.Keyspace) error {
		if k.Tables == nil {
			k.Tables = map[string]*vschema.Table{}
		}
		k.Tables["ref_rates"] = &vschema.Table{Type: vschema.TypeReference, Source: "global.ref_rates"}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	db := shared.db(t, "service", "")
	waitFor(t, func() bool { _, err := db.Exec(ddl); return err == nil })

	mustExec(t, db, "insert into ref_rates (code, rate) values ('krw', 1.0), ('jpy', 2.5)")
	mustExec(t, db, "update ref_rates set rate = ? where code = ?", "3.25", "jpy")
	mustExec(t, db, "delete from ref_rates where code = 'krw'")
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec("insert into ref_rates (code, rate) values ('usd', 9)"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}

	want := "[[jpy 3.2500]]"
	copies := map[string][][]string{"global": queryStrings(t, shared.shardDB(t, "global", "0"), "select code, rate from ref_rates order by code")}
	for _, shard := range serviceShards {
		copies["service/"+shard] = queryStrings(t, shared.shardDB(t, "service", shard), "select code, rate from ref_rates order by code")
	}
	for where, got := range copies {
		if fmt.Sprint(got) != want {
			t.Errorf("copy on %s: got %v, want %s", where, got, want)
		}
	}
	if got := queryStrings(t, db, "select code, rate from ref_rates"); fmt.Sprint(got) != want {
		t.Errorf("read through the gateway: got %v, want %s", got, want)
	}
}
