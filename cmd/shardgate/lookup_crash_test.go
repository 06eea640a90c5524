package main

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/shardgate/shardgate/topo/vschema"
	"github.com/shardgate/shardgate/vindex"
)

// TestLookupRowsSurviveGatewayKill: a table owning a lookup_unique vindex
// whose lookup table lives on other shards (sharded by xxhash of email).
// A gateway process SIGKILLed in the middle of a transaction, or during
// its two-phase commit (after the first prepare, after the decision),
// never leaves an owner row without its lookup row or a lookup row
// without its owner: checked on the shards directly once the shards have
// rolled back and a new gateway's resolver has finished.
func TestLookupRowsSurviveGatewayKill(t *testing.T) {
	h := newTwoPCHarness(t)
	ctx := context.Background()
	if err := h.cluster.Store.UpdateVSchema(ctx, "service", func(k *vschema.Keyspace) error {
		k.Vindexes["xxhash"] = &vschema.VindexDef{Type: "xxhash"}
		k.Vindexes["email_idx"] = &vschema.VindexDef{Type: "lookup_unique", Owner: "kcust",
			Params: map[string]string{"table": "service.kcust_email_idx", "from": "email", "to": "keyspace_id"}}
		k.Tables = map[string]*vschema.Table{
			"kcust":           {ColumnVindexes: []*vschema.ColumnVindex{{Column: "id", Name: "hash"}, {Column: "email", Name: "email_idx"}}},
			"kcust_email_idx": {ColumnVindexes: []*vschema.ColumnVindex{{Column: "email", Name: "xxhash"}}},
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	g := h.startGateway("", "")
	db := g.db(t, "")
	for _, q := range []string{
		"create table kcust (id bigint primary key, email varchar(64))",
		"create table kcust_email_idx (email varchar(64) primary key, keyspace_id varbinary(16) not null)",
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for id := 1; id <= 20; id++ {
		if _, err := db.Exec("insert into kcust (id, email) values (?, ?)", id, fmt.Sprintf("c%d@x.com", id)); err != nil {
			t.Fatal(err)
		}
	}
	baseline := h.lookupState(t)
	if len(baseline) != 20 {
		t.Fatalf("baseline: got %d consistent rows, want 20", len(baseline))
	}
	g.kill()

	// The transaction each step runs before the kill: new rows, a changed
	// email, a deleted row, spread over several shards.
	work := []string{
		"begin",
		"insert into kcust (id, email) values (101, 'n101@x.com'), (102, 'n102@x.com'), (103, 'n103@x.com')",
		"update kcust set email = 'changed@x.com' where id = 1",
		"delete from kcust where id = 2",
	}
	committed := func(state map[int64]string) bool {
		return state[101] == "n101@x.com" && state[1] == "changed@x.com" && state[2] == ""
	}

	t.Run("killed mid-transaction", func(t *testing.T) {
		g := h.startGateway("", "")
		c := conn(t, g.db(t, ""))
		for _, q := range work {
			if _, err := c.ExecContext(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		g.kill()
		// Nothing of an uncommitted transaction is visible, and its locks
		// go with the connections: the next steps would wait on them.
		if state := h.lookupState(t); fmt.Sprint(state) != fmt.Sprint(baseline) {
			t.Errorf("after the kill: got %v, want the baseline %v", state, baseline)
		}
	})

	for _, tc := range []struct {
		crashAfter    string
		wantCommitted bool
	}{
		{"prepared-first", false},
		{"decided", true},
	} {
		t.Run("killed at commit "+tc.crashAfter, func(t *testing.T) {
			g := h.startGateway("", tc.crashAfter, "--twopc-resolver=false")
			c := conn(t, g.db(t, ""))
			for _, q := range work {
				if _, err := c.ExecContext(ctx, q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			if _, err := c.ExecContext(ctx, "commit"); err == nil {
				t.Fatal("commit succeeded; want the gateway to die during it")
			}
			if err := g.waitExit(20 * time.Second); err == nil {
				t.Fatal("the gateway exited cleanly; want it killed by its failpoint")
			}
			r := h.startGateway("", "")
			defer r.kill()
			if err := h.waitResolved(30 * time.Second); err != nil {
				t.Fatalf("%v\n%s", err, r.stderr())
			}
			state := h.lookupState(t)
			if got := committed(state); got != tc.wantCommitted {
				t.Errorf("after recovery: committed %v, want %v (state %v)", got, tc.wantCommitted, state)
			}
			if prep := h.prepared(); fmt.Sprint(prep) != fmt.Sprint(map[string]int{}) {
				t.Errorf("prepared branches left: %v", prep)
			}
			if tc.wantCommitted {
				// Undo for the next case, through a healthy gateway.
				db := r.db(t, "")
				for _, q := range []string{"delete from kcust where id > 100", "update kcust set email = 'c1@x.com' where id = 1", "insert into kcust (id, email) values (2, 'c2@x.com')"} {
					if _, err := db.Exec(q); err != nil {
						t.Fatalf("%s: %v", q, err)
					}
				}
			}
		})
	}
}

func conn(t *testing.T, db *sql.DB) *sql.Conn {
	t.Helper()
	c, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// lookupState reads kcust and kcust_email_idx on every shard directly and
// returns id → email, after checking that the two agree row for row (each
// lookup row names its owner's keyspace id and sits on the shard of its
// own vindex).
func (h *twopcHarness) lookupState(t *testing.T) map[int64]string {
	t.Helper()
	hash, _ := vindex.New("hash", "hash", nil)
	xx, _ := vindex.New("xxhash", "xxhash", nil)
	owners := map[int64]string{}
	want, got := []string{}, []string{}
	for _, shard := range h.shards {
		kr, _ := vindex.ParseKeyRange(shard)
		db := h.shardDB(shard)
		rows, err := db.Query("select id, email from kcust")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id int64
			var email string
			if err := rows.Scan(&id, &email); err != nil {
				t.Fatal(err)
			}
			owners[id] = email
			ksid, _ := hash.(vindex.Functional).Map(id)
			want = append(want, fmt.Sprintf("%s -> %s", email, ksid))
		}
		rows.Close()
		rows, err = db.Query("select email, keyspace_id from kcust_email_idx")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var email string
			var ksid []byte
			if err := rows.Scan(&email, &ksid); err != nil {
				t.Fatal(err)
			}
			got = append(got, fmt.Sprintf("%s -> %s", email, vindex.KeyspaceID(ksid)))
			if id, _ := xx.(vindex.Functional).Map(email); !kr.Contains(id) {
				t.Errorf("lookup row %q on shard %s, not on its own vindex's shard", email, shard)
			}
		}
		rows.Close()
	}
	sort.Strings(want)
	sort.Strings(got)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("lookup rows disagree with their owners:\nlookup rows %v\nowner rows  %v", got, want)
	}
	return owners
}
