package gateway_test

import (
	"context"
	"strings"
	"testing"
)

// Regression test (issue 15, finding 1): a WHERE of 7 million chained ANDs
// (42 MB, under max_allowed_packet) overflowed the Go stack in the
// planner, and 15 million `+` terms in the parser's walk: a fatal error
// that took the whole gateway down. Both now answer 1436 and the same
// connection keeps serving.
func TestDeepExpressionAnswers1436(t *testing.T) {
	db := shared.db(t, "service", "")
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, q := range []string{
		"select * from t where " + strings.Repeat("a=1 and ", 7_000_000) + "a=1",
		"select " + strings.Repeat("1+", 15_000_000) + "1",
	} {
		_, err := conn.ExecContext(context.Background(), q)
		wantMySQLError(t, err, 1436, q[:40]+"...")
	}
	var one int
	if err := conn.QueryRowContext(context.Background(), "select 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("select 1 after the deep statements: got %d, %v, want 1", one, err)
	}
}
