package engine

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/shardgate/shardgate/vindex"
)

// TestShardQueriesAreStreams: ShardQueries names the shards and queries
// Stream sends, for every routing (its one-shard fast path included),
// and appends to the caller's slices.
func TestShardQueriesAreStreams(t *testing.T) {
	v, err := vindex.New("hash", "hash", nil)
	if err != nil {
		t.Fatal(err)
	}
	hash := v.(vindex.Functional)
	lit := func(n int64) Value { return Value{Param: -1, Val: n, Mappable: true, SQL: "7"} }
	tmpl := ArgTemplate([]string{"select c from t where id = ", ""}, []int{0})
	routes := map[string]*Route{
		"equal unique, argument": {Routing: Routing{Opcode: EqualUnique, Keyspace: "service", Sharded: true, Vindex: hash, Values: []Value{{Param: 0}}}, Query: tmpl},
		"equal unique, literal":  {Routing: Routing{Opcode: EqualUnique, Keyspace: "service", Sharded: true, Vindex: hash, Values: []Value{lit(7)}}, Query: TextTemplate("select c from t where id = 7")},
		"equal unique, unmapped": {Routing: Routing{Opcode: EqualUnique, Keyspace: "service", Sharded: true, Vindex: hash, Values: []Value{{Param: 0}}}, Query: tmpl},
		"by destination":         {Routing: Routing{Opcode: ByDestination, Keyspace: "service", Sharded: true, Shard: "80-c0"}, Query: TextTemplate("select 1")},
		"unsharded":              {Routing: Routing{Opcode: Unsharded, Keyspace: "global"}, Query: TextTemplate("select 2")},
		"scatter":                scatterRoute("select c from t"),
	}
	args := map[string][]any{"equal unique, argument": {int64(12345)}, "equal unique, unmapped": {"not a number"}}
	for name, r := range routes {
		vc := newFakeVCursor()
		if err := r.Stream(context.Background(), vc, args[name], func(*Result) error { return nil }); err != nil {
			t.Fatalf("%s: Stream: %v", name, err)
		}
		var want []string
		for _, l := range vc.log {
			want = append(want, strings.TrimPrefix(l, "StreamMulti "))
		}
		shards, queries, err := r.ShardQueries(context.Background(), vc, args[name], []string{"kept"}, []string{"kept"})
		if err != nil {
			t.Fatalf("%s: ShardQueries: %v", name, err)
		}
		if shards[0] != "kept" || queries[0] != "kept" {
			t.Errorf("%s: ShardQueries did not append: %v %v", name, shards, queries)
		}
		var got []string
		for i := 1; i < len(shards); i++ {
			got = append(got, r.Keyspace+"."+shards[i]+": "+queries[i])
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: ShardQueries gives %q, Stream sent %q", name, got, want)
		}
	}
}
