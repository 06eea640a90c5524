package engine

import (
	"context"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

func TestMemorySortOrdersAndTrims(t *testing.T) {
	fields := []*mysql.Field{
		field("id", mysql.MYSQL_TYPE_LONGLONG, binaryCharset),
		field("k", mysql.MYSQL_TYPE_LONGLONG, binaryCharset),
	}
	vc := shardResults(fields,
		rows([]string{"1", "30"}, []string{"2", "10"}),
		rows([]string{"3", "NULL"}, []string{"4", "20"}),
	)
	m := &MemorySort{Input: scatterRoute("q"), Keys: []OrderKey{{Col: 1, Weight: NoWeight}}, Trim: 1}
	r, err := m.Execute(context.Background(), vc, nil)
	if err != nil {
		t.Fatal(err)
	}
	// NULL first, as MySQL orders it ascending; the key column is hidden.
	if got, want := show(r.Rows), "(3) (2) (4) (1)"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if len(r.Fields) != 1 {
		t.Errorf("got %d fields, want 1", len(r.Fields))
	}
}
