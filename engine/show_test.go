package engine

import (
	"context"
	"strings"
	"testing"
)

func sessionCursor() *fakeVCursor {
	vc := newFakeVCursor()
	vc.session = &fakeSession{
		keyspaces: []KeyspaceInfo{{Name: "global", Shards: []string{"-"}}, {Name: "service", Sharded: true, Shards: []string{"-80", "80-"}}},
		tablets:   []TabletInfo{{Cell: "zone1", Keyspace: "global", Shard: "-", Type: "primary", Alias: "zone1-100", Host: "127.0.0.1"}},
		warnings:  []Warning{{Level: "Warning", Code: 1265, Message: "Data truncated"}, {Level: "Error", Code: 1062, Message: "Duplicate"}},
		lastID:    42,
		connID:    7,
	}
	return vc
}

func TestShowAnswersFromTheSession(t *testing.T) {
	cases := []struct {
		show *Show
		want string
	}{
		{&Show{Kind: ShowDatabases, Column: "Database"}, "(global) (service)"},
		{&Show{Kind: ShowShards}, "(global/-) (service/-80) (service/80-)"},
		{&Show{Kind: ShowTablets}, "(zone1,global,-,PRIMARY,SERVING,zone1-100,127.0.0.1,,unknown,NULL,NULL,NULL,NULL,NULL)"},
		{&Show{Kind: ShowWarnings}, "(Warning,1265,Data truncated) (Error,1062,Duplicate)"},
		{&Show{Kind: ShowErrors}, "(Error,1062,Duplicate)"},
	}
	for _, c := range cases {
		vc := sessionCursor()
		res, err := c.show.Execute(context.Background(), vc, nil)
		if err != nil {
			t.Fatalf("%s: %v", c.show.Kind, err)
		}
		if got := show(res.Rows); got != c.want {
			t.Errorf("%s: %s, want %s", c.show.Kind, got, c.want)
		}
		if len(vc.log) != 0 {
			t.Errorf("%s reached shards: %v", c.show.Kind, vc.log)
		}
	}
}

func TestShowWithoutSessionRefuses(t *testing.T) {
	if _, err := (&Show{Kind: ShowWarnings}).Execute(context.Background(), newFakeVCursor(), nil); err == nil {
		t.Fatal("no error without a session")
	}
}

func TestSessionFunc(t *testing.T) {
	for fn, want := range map[string]string{"last_insert_id": "(42)", "connection_id": "(7)"} {
		res, err := (&SessionFunc{Func: fn, Column: "id"}).Execute(context.Background(), sessionCursor(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := show(res.Rows); got != want || string(res.Fields[0].Name) != "id" {
			t.Errorf("%s: %s (column %s), want %s (column id)", fn, got, res.Fields[0].Name, want)
		}
	}
}

// TestShowTabletsHealthColumns: Vitess's eight columns come first, then
// the health columns, from the session's tablet info (NULL lag unknown).
func TestShowTabletsHealthColumns(t *testing.T) {
	vc := sessionCursor()
	lag := int64(42)
	vc.session.tablets = []TabletInfo{{
		Cell: "zone1", Keyspace: "service", Shard: "-80", Type: "replica", Alias: "zone1-101", Host: "127.0.0.1",
		State: "NOT_SERVING", Health: "lag 42s over the 30s limit", LagSeconds: &lag, Replication: "running",
		ReadOnly: "true", GTIDPosition: "0-1-7", CheckedAt: "2026-12-05T21:30:00Z",
	}}
	res, err := (&Show{Kind: ShowTablets}).Execute(context.Background(), vc, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range res.Fields {
		names = append(names, string(f.Name))
	}
	wantNames := "Cell Keyspace Shard TabletType State Alias Hostname PrimaryTermStartTime Health ReplicationLagSeconds Replication ReadOnly GtidPosition HealthCheckedAt"
	if got := strings.Join(names, " "); got != wantNames {
		t.Errorf("columns: got %s, want %s", got, wantNames)
	}
	want := "(zone1,service,-80,REPLICA,NOT_SERVING,zone1-101,127.0.0.1,,lag 42s over the 30s limit,42,running,true,0-1-7,2026-12-05T21:30:00Z)"
	if got := show(res.Rows); got != want {
		t.Errorf("row: got %s, want %s", got, want)
	}
}
