package gateway

import (
	"testing"

	"github.com/go-mysql-org/go-mysql/stmt"
)

// BenchmarkFloatResult: what every COM_STMT_EXECUTE pays to choose the
// protocol of its shard queries.
func BenchmarkFloatResult(b *testing.B) {
	var t floatStmts
	t.prepared(1, false)
	t.prepared(2, true)
	ps := &stmt.PreparedStmt{ID: 1}
	b.ReportAllocs()
	for b.Loop() {
		if t.has(ps) {
			b.Fatal("no FLOAT column")
		}
	}
}
