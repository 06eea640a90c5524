package querystats

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestNormalize(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"select * from t where id = 5", "select * from t where id = ?"},
		{"SELECT  a,\n b FROM t WHERE s = 'it''s' AND x = \"y\"", "SELECT a, b FROM t WHERE s = ? AND x = ?"},
		{"select * from t where id in (1, 2, 3)", "select * from t where id in (...)"},
		{"insert into t (id, name) values (1, 'a'), (2, 'b')", "insert into t (id, name) values (...), (...)"},
		{"select col1, t2.x from t2 where v = -1.5e3", "select col1, t2.x from t2 where v = -?"},
		{"select x'ff', _utf8mb4'pw', N'z' from dual", "select ?, ?, ? from dual"},
		{"select `a1` from `t 2` /* hint */ where b = 'x\\'y' -- tail", "select `a1` from `t 2` where b = ?"},
		{"select sha2('secret', 256)", "select sha2(...)"},
		{"set @a = 'pw'", "set @a = ?"},
		{"select * from t where id = ? limit 10", "select * from t where id = ? limit ?"},
	} {
		if got := Normalize(tc.in); got != tc.want {
			t.Errorf("Normalize(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestTableEvictsLeastRun(t *testing.T) {
	tb := NewTable(2)
	a := tb.Lookup("ks", "select a")
	a.Record(time.Millisecond, 1, 1, false)
	a.Record(time.Millisecond, 1, 1, false)
	b := tb.Lookup("ks", "select b")
	b.Record(time.Millisecond, 1, 1, false)
	c := tb.Lookup("ks", "select c") // evicts b, run once
	if !b.Evicted() || a.Evicted() || c.Evicted() {
		t.Fatalf("evicted a=%v b=%v c=%v, want only b", a.Evicted(), b.Evicted(), c.Evicted())
	}
	if got := tb.Lookup("ks", "select a"); got != a {
		t.Fatalf("Lookup of a kept digest returned a new one")
	}
	if tb.Len() != 2 {
		t.Fatalf("Len = %d, want 2", tb.Len())
	}
}

func TestStatsPercentiles(t *testing.T) {
	d := NewTable(0).Lookup("ks", "select ?")
	for i := 0; i < 98; i++ {
		d.Record(time.Millisecond, 2, 4, false)
	}
	d.Record(time.Second, 0, 4, true)
	d.Record(time.Second, 0, 4, true)
	s := d.Stats()
	if s.Count != 100 || s.Rows != 196 || s.Errors != 2 || s.ShardQueries != 400 {
		t.Fatalf("counts = %+v", s)
	}
	if s.P50 < time.Millisecond || s.P50 > 1300*time.Microsecond {
		t.Errorf("p50 = %s, want about 1ms", s.P50)
	}
	if s.P99 < time.Second || s.P99 > 1300*time.Millisecond {
		t.Errorf("p99 = %s, want about 1s", s.P99)
	}
	if s.Total != 98*time.Millisecond+2*time.Second {
		t.Errorf("total = %s", s.Total)
	}
	if s.ID == "" || len(s.ID) != 16 {
		t.Errorf("id = %q", s.ID)
	}
}

func TestTopOrdersByTotalTime(t *testing.T) {
	tb := NewTable(0)
	tb.Lookup("ks", "fast").Record(time.Millisecond, 0, 1, false)
	tb.Lookup("ks", "slow").Record(time.Second, 0, 1, false)
	tb.Lookup("ks", "never") // looked up, never run: not listed
	top := tb.Top(0)
	if len(top) != 2 || top[0].Text != "slow" || top[1].Text != "fast" {
		t.Fatalf("Top = %+v, want slow then fast", top)
	}
	if got := tb.Top(1); len(got) != 1 {
		t.Fatalf("Top(1) returned %d", len(got))
	}
}

func TestLogThresholdAndSampling(t *testing.T) {
	var buf bytes.Buffer
	l := NewLog(LogConfig{W: &buf, SampleRate: 1, SlowThreshold: 50 * time.Millisecond})
	for _, tc := range []struct {
		took   time.Duration
		failed bool
		want   bool
	}{
		{time.Millisecond, false, false},
		{time.Millisecond, true, true},
		{60 * time.Millisecond, false, true},
	} {
		if got := l.Wants(tc.took, tc.failed); got != tc.want {
			t.Errorf("Wants(%s, %v) = %v, want %v", tc.took, tc.failed, got, tc.want)
		}
	}
	l.Write(&Entry{User: "u", Statement: "select ?", Duration: 0.06})
	var e map[string]any
	if err := json.Unmarshal(buf.Bytes(), &e); err != nil {
		t.Fatalf("log line %q: %v", buf.String(), err)
	}
	if e["slow"] != true || e["statement"] != "select ?" {
		t.Fatalf("log line = %v", e)
	}

	none := NewLog(LogConfig{W: &buf, SampleRate: 0})
	for i := 0; i < 100; i++ {
		if none.Wants(time.Second, true) {
			t.Fatal("sample rate 0 wants a statement")
		}
	}
	half := NewLog(LogConfig{W: &buf, SampleRate: 0.5})
	n := 0
	for i := 0; i < 2000; i++ {
		if half.Wants(time.Second, false) {
			n++
		}
	}
	if n < 800 || n > 1200 {
		t.Fatalf("sample rate 0.5 took %d of 2000", n)
	}
	if strings.Count(buf.String(), "\n") != 1 {
		t.Fatalf("log has %d lines, want 1", strings.Count(buf.String(), "\n"))
	}
}
