package console_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/shardgate/shardgate/console"
	"github.com/shardgate/shardgate/gateway"
)

// unstarted is a gateway that was configured but never started: enough
// for the status port's pages that need no topology.
func unstarted(t *testing.T) *gateway.Server {
	t.Helper()
	srv, err := gateway.New(gateway.Config{ListenAddr: "127.0.0.1:0", Topo: struct{ gateway.TopoStore }{}})
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	body, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, string(body)
}

// TestPprofOnlyWhenAsked: /debug/pprof/ (whose cmdline page shows the
// process's arguments, passwords included) is served only with Pprof;
// the console and /metrics always are.
func TestPprofOnlyWhenAsked(t *testing.T) {
	for _, on := range []bool{false, true} {
		c, err := console.New(console.Config{Gateway: unstarted(t), Pprof: on})
		if err != nil {
			t.Fatal(err)
		}
		code, _ := get(t, c, "/debug/pprof/cmdline")
		if want := map[bool]int{false: 404, true: 200}[on]; code != want {
			t.Errorf("Pprof %v: /debug/pprof/cmdline answered %d, want %d", on, code, want)
		}
		if code, body := get(t, c, "/"); code != 200 || !strings.Contains(body, "console.js") {
			t.Errorf("Pprof %v: / answered %d %.80q, want the console page", on, code, body)
		}
		if code, body := get(t, c, "/metrics"); code != 200 || !strings.Contains(body, "shardgate_plan_cache_hits_total") {
			t.Errorf("Pprof %v: /metrics answered %d without the gateway's metrics", on, code)
		}
		if code, body := get(t, c, "/api/vexplain?query=select+1"); code != 404 || !strings.Contains(body, "error") {
			t.Errorf("VEXPLAIN without a gateway DSN answered %d %q, want 404 with an error", code, body)
		}
		c.Close()
	}
}

// TestVExplainBoxRefusesExecute: the box never sends VEXPLAIN QUERIES
// EXECUTE (it would run a write) nor several statements.
func TestVExplainBoxRefusesExecute(t *testing.T) {
	c, err := console.New(console.Config{Gateway: unstarted(t), GatewayDSN: "root@tcp(127.0.0.1:1)/"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, q := range []string{"EXECUTE delete from t", "execute  update t set a = 1", "execute\tdelete from t", "select 1; delete from t"} {
		code, body := get(t, c, "/api/vexplain?mode=QUERIES&query="+url.QueryEscape(q))
		if code != 400 || !strings.Contains(body, "error") {
			t.Errorf("VEXPLAIN QUERIES %q answered %d %q, want 400 refused", q, code, body)
		}
	}
}
