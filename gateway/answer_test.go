package gateway

import (
	"testing"
	"time"
)

// The statements the gateway answers (runAnswer) on a session whose
// shards are fake: they change the session or read it, and none reaches
// a shard.
func TestAnswersChangeAndReadTheSession(t *testing.T) {
	s, fake := benchSession(t, 0)
	s.runQuery("SET autocommit = 0, max_execution_time = 1500, @x = 5, NAMES latin1")
	if s.autocommit {
		t.Error("autocommit still on")
	}
	if s.maxStatementTime != 1500*time.Millisecond {
		t.Errorf("statement limit %v, want 1.5s", s.maxStatementTime)
	}
	if got, want := s.settings.applySQL(), "SET @`x`=5, NAMES 'latin1'"; got != want {
		t.Errorf("shard settings %q, want %q", got, want)
	}
	s.runQuery("SET NAMES utf8mb4")
	if got, want := s.settings.applySQL(), "SET @`x`=5"; got != want {
		t.Errorf("after SET NAMES utf8mb4: %q, want %q", got, want)
	}
	s.lastInsertID = 42
	for _, q := range []string{"SELECT LAST_INSERT_ID()", "SELECT CONNECTION_ID()", "SHOW WARNINGS", "SHOW VITESS_SHARDS", "SHOW DATABASES"} {
		s.runQuery(q)
	}
	if fake.queries != 0 {
		t.Errorf("%d shard queries; the session answers these itself", fake.queries)
	}
	if s.tx != nil {
		t.Error("an answer opened a transaction with autocommit off")
	}
}
