package gateway_test

import (
	"testing"
	"time"

	"github.com/shardgate/shardgate/topo/vschema"
)

func newTable(column, vindexName string) *vschema.Table {
	return &vschema.Table{ColumnVindexes: []*vschema.ColumnVindex{{Column: column, Name: vindexName}}}
}

// waitFor polls cond for up to 5 s.
func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
