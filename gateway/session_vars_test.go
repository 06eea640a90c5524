package gateway_test

import (
	"context"
	"reflect"
	"testing"
)

// TestGatewayVariablesReadBack: what SET changes at the gateway only
// (transaction_mode, replica_reads, autocommit, max_execution_time) reads
// back with SELECT @@name and SHOW VARIABLES, as a MySQL user expects,
// in a sharded and an unsharded keyspace; shard variables still come from
// the shard.
func TestGatewayVariablesReadBack(t *testing.T) {
	for _, ks := range []string{"service", "global"} {
		t.Run(ks, func(t *testing.T) {
			ctx := context.Background()
			conn := shared.db(t, ks, "")
			conn.SetMaxOpenConns(1) // one session
			check := func(query string, want ...[]string) {
				t.Helper()
				if got := queryStrings(t, conn, query); !reflect.DeepEqual(got, want) {
					t.Errorf("%s: got %v, want %v", query, got, want)
				}
			}
			check("select @@transaction_mode, @@session.replica_reads, @@autocommit, @@max_execution_time",
				[]string{"twopc", "fallback", "1", "0"})
			mustExec(t, conn, "set transaction_mode = 'multi', replica_reads = 'strict', max_execution_time = 1500, sql_mode = 'ANSI_QUOTES'")
			check("select @@transaction_mode, @@replica_reads, @@max_execution_time, @@sql_mode",
				[]string{"multi", "strict", "1500", "ANSI_QUOTES"})
			check("show variables like 'transaction_mode'", []string{"transaction_mode", "multi"})
			check("show session variables like 'replica\\_%'", []string{"replica_reads", "strict"})
			mustExec(t, conn, "set autocommit = 0")
			check("select @@autocommit as ac", []string{"0"})
			check("show variables like 'autocommit'", []string{"autocommit", "OFF"})
			mustExec(t, conn, "rollback")
			mustExec(t, conn, "set autocommit = 1, transaction_mode = 'single'")
			check("select @@transaction_mode", []string{"single"})
			check("show variables like 'autocommit'", []string{"autocommit", "ON"})
			// The column is named as written.
			rows, err := conn.QueryContext(ctx, "select @@transaction_mode")
			if err != nil {
				t.Fatal(err)
			}
			cols, _ := rows.Columns()
			rows.Close()
			if !reflect.DeepEqual(cols, []string{"@@transaction_mode"}) {
				t.Errorf("column names: got %v, want [@@transaction_mode]", cols)
			}
		})
	}
}
