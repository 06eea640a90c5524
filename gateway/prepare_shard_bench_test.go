package gateway_test

import (
	"fmt"
	"testing"

	"github.com/shardgate/shardgate/gateway"
	"github.com/shardgate/shardgate/gateway/gatewaytest"
)

// BenchmarkRealPreparedPointSelect: a prepared point select (go-sql-driver
// without interpolateParams: COM_STMT_EXECUTE, binary rows) through a real
// gateway over TCP and a real shard, with the statement run on the shard
// as a prepared statement and its row passed through (shard_prepared) and
// as text decoded and re-encoded (shard_text, BackendConfig
// PreparedStatements -1). go-sql-driver's allocations are included in
// both: compare the two, not absolutes.
func BenchmarkRealPreparedPointSelect(b *testing.B) {
	mustExec(b, shared.db(b, "service", ""), "CREATE TABLE IF NOT EXISTS real_bench (id BIGINT PRIMARY KEY, c VARCHAR(64))")
	mustExec(b, shared.db(b, "service", ""), "REPLACE INTO real_bench (id, c) VALUES (7, 'seven')")
	for _, c := range []struct {
		name     string
		prepared int
	}{{"shard_prepared", 0}, {"shard_text", -1}} {
		b.Run(c.name, func(b *testing.B) {
			srv := startSecondGateway(b, gateway.Config{Backend: gateway.BackendConfig{PreparedStatements: c.prepared}})
			db := gatewaytest.Open(b, fmt.Sprintf("root@tcp(%s)/service", srv.Addr()))
			db.SetMaxOpenConns(1)
			st, err := db.Prepare("SELECT c FROM real_bench WHERE id = ?")
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			var v string
			b.ReportAllocs()
			for b.Loop() {
				if err := st.QueryRow(7).Scan(&v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
