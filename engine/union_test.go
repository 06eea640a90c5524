package engine

import (
	"context"
	"errors"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

func TestConcatenateDistinctByWeightAndOrders(t *testing.T) {
	// name, weight_string(name): "Bob" and "bob" weigh the same.
	fields := []*mysql.Field{
		field("name", mysql.MYSQL_TYPE_VAR_STRING, utf8mb4GeneralCI),
		field("ws", mysql.MYSQL_TYPE_VAR_STRING, binaryCharset),
	}
	vc := shardResults(fields,
		rows([]string{"bob", "\x00B\x00O\x00B"}, []string{"al", "\x00A\x00L"}),
		rows([]string{"Bob", "\x00B\x00O\x00B"}, []string{"cy", "\x00C\x00Y"}),
	)
	c := &Concatenate{
		Sources:        []Primitive{singleShardRoute("q", "-40"), singleShardRoute("q", "40-80")},
		Visible:        1,
		Hidden:         1,
		Weights:        []int{1},
		DistinctInputs: 2,
		Order:          []OrderKey{{Col: 0, Weight: 1, Desc: true}},
	}
	r, err := c.Execute(context.Background(), vc, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := show(r.Rows), "(cy) (bob) (al)"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if len(r.Fields) != 1 {
		t.Errorf("got %d fields, want the hidden weight dropped", len(r.Fields))
	}
}

func TestConcatenateRefusesDifferentColumnCounts(t *testing.T) {
	vc := newFakeVCursor()
	vc.results = func(_, shard, _ string) (*Result, error) {
		if shard == "-40" {
			return &Result{Fields: []*mysql.Field{field("a", mysql.MYSQL_TYPE_LONG, binaryCharset)}}, nil
		}
		return &Result{Fields: []*mysql.Field{field("a", mysql.MYSQL_TYPE_LONG, binaryCharset), field("b", mysql.MYSQL_TYPE_LONG, binaryCharset)}}, nil
	}
	c := &Concatenate{Sources: []Primitive{singleShardRoute("q", "-40"), singleShardRoute("q", "40-80")}, Visible: 1}
	_, err := c.Execute(context.Background(), vc, nil)
	var me *mysql.MyError
	if !errors.As(err, &me) || me.Code != mysql.ER_WRONG_NUMBER_OF_COLUMNS_IN_SELECT {
		t.Fatalf("got %v, want error %d", err, mysql.ER_WRONG_NUMBER_OF_COLUMNS_IN_SELECT)
	}
}

// singleShardRoute sends query to one shard of service.
func singleShardRoute(query, shard string) *Route {
	return &Route{Routing: Routing{Opcode: ByDestination, Keyspace: "service", Sharded: true, Shard: shard}, Query: TextTemplate(query)}
}
