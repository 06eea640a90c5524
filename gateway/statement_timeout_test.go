package gateway

import (
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/sqlerror"
)

// BenchmarkPointSelectQueryTimeout is BenchmarkPointSelectCached under a
// gateway time limit (serve's default --query-timeout is 30s): the limit
// is a timer reset per statement, so it costs no allocation.
func BenchmarkPointSelectQueryTimeout(b *testing.B) {
	s, _ := benchSession(b, 0)
	s.srv.cfg.QueryTimeout = 30 * time.Second
	qs := pointSelects(100)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		s.runQuery(qs[i%len(qs)])
		i++
	}
}

// TestStatementTimeoutEndsWithItsStatement: a statement's time limit
// cancels it when it runs past the limit, and never the next statement
// after it ended in time.
func TestStatementTimeoutEndsWithItsStatement(t *testing.T) {
	s, _ := benchSession(t, 0)
	s.srv.cfg.QueryTimeout = 50 * time.Millisecond
	ctx := s.beginStatement("SELECT 1")
	if err := s.endStatement(nil); err != nil {
		t.Fatal(err)
	}
	s.srv.cfg.QueryTimeout = 0
	ctx2 := s.beginStatement("SELECT 2")
	if ctx2 != ctx {
		t.Error("a statement that ended in time did not leave its context to the next")
	}
	time.Sleep(150 * time.Millisecond)
	if err := ctx2.Err(); err != nil {
		t.Fatalf("the previous statement's limit cancelled the next one: %v", err)
	}
	s.endStatement(nil)

	s.srv.cfg.QueryTimeout = 50 * time.Millisecond
	ctx3 := s.beginStatement("SELECT SLEEP(1)")
	select {
	case <-ctx3.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("a statement past its 50ms limit was not cancelled within 5s")
	}
	interrupted := sqlerror.New(sqlerror.Interrupted, mysql.ER_QUERY_INTERRUPTED, "interrupted")
	if err := s.endStatement(interrupted); sqlerror.ToMyError(err).Code != erStatementTimeout {
		t.Errorf("a statement past its limit answered %v, want error %d", err, erStatementTimeout)
	}
	if ctx4 := s.beginStatement("SELECT 3"); ctx4.Err() != nil {
		t.Errorf("the statement after a timed-out one starts cancelled: %v", ctx4.Err())
	}
	s.endStatement(nil)
}
