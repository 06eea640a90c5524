package gateway_test

import (
	"testing"
)

// BenchmarkRealPointSelect: a point select through a real gateway over TCP
// and a real shard (go-sql-driver's allocations included: compare runs of
// two trees, not absolutes). It starts the package's shared cluster; it
// found the per-release context.WithoutCancel of the statement lifecycle
// (38 -> 39 allocations, now 38 again).
func BenchmarkRealPointSelect(b *testing.B) {
	db := shared.db(b, "service", "interpolateParams=true")
	db.SetMaxOpenConns(1)
	if _, err := db.Exec("CREATE TABLE IF NOT EXISTS real_bench (id BIGINT PRIMARY KEY, c VARCHAR(64))"); err != nil {
		b.Fatal(err)
	}
	if _, err := db.Exec("REPLACE INTO real_bench (id, c) VALUES (7, 'seven')"); err != nil {
		b.Fatal(err)
	}
	var c string
	b.ReportAllocs()
	for b.Loop() {
		if err := db.QueryRow("SELECT c FROM real_bench WHERE id = ?", 7).Scan(&c); err != nil {
			b.Fatal(err)
		}
	}
}
