package gateway

import "testing"

func TestTxControlOf(t *testing.T) {
	for _, c := range []struct {
		sql  string
		want txControl
	}{
		{"BEGIN", txBegin},
		{"begin", txBegin},
		{"  Begin ;; \n", txBegin},
		{"START TRANSACTION", txBegin},
		{"start  \t transaction;", txBegin},
		{"COMMIT", txCommit},
		{"commit;", txCommit},
		{"ROLLBACK", txRollback},
		{"rollback ", txRollback},
		// Everything else is the parser's.
		{"START TRANSACTION READ ONLY", txNone},
		{"START TRANSACTION WITH CONSISTENT SNAPSHOT", txNone},
		{"START", txNone},
		{"BEGIN WORK", txNone},
		{"COMMIT AND CHAIN", txNone},
		{"ROLLBACK TO SAVEPOINT a", txNone},
		{"ROLLBACK TO a", txNone},
		{"BEGIN; SELECT 1", txNone},
		{"/* x */ BEGIN", txNone},
		{"BEGIN /* x */", txNone},
		{"BEGINX", txNone},
		{"COMMITTED", txNone},
		{"SELECT 1", txNone},
		{"", txNone},
	} {
		if got := txControlOf(c.sql); got != c.want {
			t.Errorf("txControlOf(%q) = %d, want %d", c.sql, got, c.want)
		}
	}
}

// BenchmarkBeginCommit: an empty transaction's two statements from text
// (the fast path: no parser).
func BenchmarkBeginCommit(b *testing.B) {
	s, _ := benchSession(b, 0)
	s.txMode = modeMulti // the bench gateway has no 2PC coordinator
	b.ReportAllocs()
	for b.Loop() {
		s.runQuery("BEGIN")
		s.runQuery("COMMIT")
	}
}
