package engine

import (
	"context"
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
