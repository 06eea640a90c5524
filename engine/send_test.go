package engine

import (
	"context"
	"strings"
	"testing"
)

func TestSendAnyShardAsksTheFirstServingShard(t *testing.T) {
	vc := newFakeVCursor()
	s := &Send{Keyspace: "service", Sharded: true, Query: "show tables"}
	if _, err := s.Execute(context.Background(), vc, nil); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(vc.log, "\n"), "ExecuteMulti service.-40: show tables"; got != want {
		t.Errorf("log:\n%s\nwant:\n%s", got, want)
	}
}

func TestSendNamedShard(t *testing.T) {
	vc := newFakeVCursor()
	s := &Send{Keyspace: "service", Sharded: true, Shard: "80-c0", Query: "show tables"}
	if err := s.Stream(context.Background(), vc, nil, func(*Result) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(vc.log, "\n"), "ExecuteMulti service.80-c0: show tables"; got != want {
		t.Errorf("log:\n%s\nwant:\n%s", got, want)
	}
}

func TestSendUnknownKeyspace(t *testing.T) {
	vc := newFakeVCursor()
	s := &Send{Keyspace: "nope", Query: "show tables"}
	if _, err := s.Execute(context.Background(), vc, nil); err == nil {
		t.Fatal("no error for an unknown keyspace")
	}
	if len(vc.log) != 0 {
		t.Errorf("sent %v", vc.log)
	}
}
