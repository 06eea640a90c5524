package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shardgate/shardgate/failover"
	"github.com/shardgate/shardgate/internal/lazyenv"

	"github.com/shardgate/shardgate/topo"
)

// etcd is the embedded etcd the tests that need one share, started by the
// first that asks for it (endpoints); each test uses its own topology root.
var etcd = lazyenv.New("the test etcd", func() (string, func(), error) {
	dir, err := os.MkdirTemp("", "shardctl-test-")
	if err != nil {
		return "", nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	e, err := topo.StartEmbedded(ctx, topo.EmbeddedConfig{Dir: dir, ClientAddr: "127.0.0.1:0"})
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	return strings.Join(e.Endpoints(), ","), func() { e.Close(); os.RemoveAll(dir) }, nil
})

// TestMain runs the tests; started again with controllerProcessEnv set
// (the controller-kill test), the test binary is instead a resharding
// controller process (controllerProcess).
func TestMain(m *testing.M) {
	if os.Getenv(controllerProcessEnv) != "" {
		os.Exit(controllerProcess())
	}
	os.Exit(lazyenv.Main(m, etcd))
}

// endpoints are those of the test etcd (comma-separated), started if no
// test has yet.
func endpoints(t testing.TB) string {
	t.Helper()
	return etcd.Get(t)
}

func root(t *testing.T) string { return "/test/" + t.Name() }

// ctl runs shardctl in-process against the test's topology.
func ctl(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	all := append([]string{"--topo-endpoints", endpoints(t), "--topo-root", root(t)}, args...)
	code = run(t.Context(), all, &out, &errb)
	return out.String(), errb.String(), code
}

// mustCtl runs shardctl and fails the test unless it exits 0.
func mustCtl(t *testing.T, args ...string) string {
	t.Helper()
	out, errs, code := ctl(t, args...)
	if code != 0 {
		t.Fatalf("shardctl %s: got exit %d (%s), want 0", strings.Join(args, " "), code, errs)
	}
	return out
}

// store opens the test's topology directly, to set up what shardctl
// can't create yet (shards, tablets).
func store(t *testing.T) *topo.Store {
	t.Helper()
	s, err := topo.Open(t.Context(), topo.Config{Endpoints: strings.Split(endpoints(t), ","), Root: root(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// lines splits output into lines with runs of spaces squeezed.
func lines(s string) []string {
	var out []string
	for l := range strings.Lines(strings.TrimSpace(s)) {
		out = append(out, strings.Join(strings.Fields(l), " "))
	}
	return out
}

func checkLines(t *testing.T, what, got string, want ...string) {
	t.Helper()
	if g := lines(got); strings.Join(g, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\ngot\n%s\nwant\n%s", what, strings.Join(g, "\n"), strings.Join(want, "\n"))
	}
}

func TestUsage(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(t.Context(), []string{"help"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "vschema apply --keyspace KS --file FILE") {
		t.Errorf("shardctl help: got exit %d, stdout %q, want 0 and the command list", code, out.String())
	}
	cases := [][]string{
		{},
		{"keyspace"},
		{"keyspace", "drop", "x"},
		{"--no-such-flag"},
		{"keyspace", "create"},
		{"keyspace", "create", "a", "b"},
		{"keyspace", "list", "extra"},
		{"keyspace", "create", "--bogus", "x"},
		{"vschema", "get"},
		{"vschema", "apply", "--keyspace", "ks"},
	}
	for _, args := range cases {
		out, errs, code := ctl(t, args...)
		if code != exitUsage || !strings.Contains(errs, "usage: shardctl") || out != "" {
			t.Errorf("shardctl %q: got exit %d, stdout %q, stderr %q, want exit 2 and the usage on stderr", args, code, out, errs)
		}
	}
	if out, _, code := ctl(t, "keyspace", "create", "-h"); code != 0 || !strings.Contains(out, "-sharded") {
		t.Errorf("shardctl keyspace create -h: got exit %d, stdout %q, want 0 and the flags", code, out)
	}
}

func TestKeyspace(t *testing.T) {
	checkLines(t, "keyspace create", mustCtl(t, "keyspace", "create", "user", "--sharded"), "created keyspace user (sharded)")
	// Flags before the name, global flags after the command.
	var out, errb bytes.Buffer
	code := run(t.Context(), []string{"keyspace", "create", "--sharded=false", "global", "--topo-endpoints", endpoints(t), "--topo-root", root(t)}, &out, &errb)
	if code != 0 {
		t.Fatalf("keyspace create with flags after the command: got exit %d (%s), want 0", code, errb.String())
	}
	checkLines(t, "keyspace list", mustCtl(t, "keyspace", "list"),
		"KEYSPACE SHARDED",
		"global false",
		"user true")

	_, errs, code := ctl(t, "keyspace", "create", "user")
	if code != exitError || !strings.Contains(errs, `keyspace "user": topo: node already exists`) {
		t.Errorf("keyspace create of an existing keyspace: got exit %d, stderr %q, want 1 and 'already exists'", code, errs)
	}
	_, errs, code = ctl(t, "keyspace", "create", "a/b")
	if code != exitError || !strings.Contains(errs, `"a/b"`) {
		t.Errorf("keyspace create a/b: got exit %d, stderr %q, want 1 naming a/b", code, errs)
	}
}

func TestShardAndTabletList(t *testing.T) {
	s, ctx := store(t), t.Context()
	mustCtl(t, "keyspace", "create", "user", "--sharded")
	mustCtl(t, "keyspace", "create", "global")
	for _, sh := range []*topo.Shard{{Keyspace: "user", Name: "80-"}, {Keyspace: "user", Name: "-80"}, {Keyspace: "global", Name: "0"}} {
		if err := s.CreateShard(ctx, sh); err != nil {
			t.Fatal(err)
		}
	}
	primary := topo.TabletAlias{Cell: "zone1", UID: 100}
	for _, tb := range []*topo.Tablet{
		{Alias: primary, Keyspace: "user", Shard: "-80", Type: topo.TabletPrimary, Host: "127.0.0.1", Port: 17100},
		{Alias: topo.TabletAlias{Cell: "zone1", UID: 101}, Keyspace: "user", Shard: "-80", Type: topo.TabletReplica, Host: "::1", Port: 17101},
	} {
		if err := s.AddTablet(ctx, tb); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.UpdateShard(ctx, "user", "-80", func(sh *topo.Shard) error { sh.PrimaryAlias = &primary; return nil }); err != nil {
		t.Fatal(err)
	}

	checkLines(t, "shard list", mustCtl(t, "shard", "list"),
		"KEYSPACE SHARD PRIMARY",
		"global 0 -",
		"user -80 zone1-0000000100",
		"user 80- -")
	checkLines(t, "shard list --keyspace user", mustCtl(t, "shard", "list", "--keyspace", "user"),
		"KEYSPACE SHARD PRIMARY",
		"user -80 zone1-0000000100",
		"user 80- -")
	_, errs, code := ctl(t, "shard", "list", "--keyspace", "nope")
	if code != exitError || !strings.Contains(errs, `keyspace "nope": topo: node doesn't exist`) {
		t.Errorf("shard list --keyspace nope: got exit %d, stderr %q, want 1 and 'doesn't exist'", code, errs)
	}
	checkLines(t, "tablet list", mustCtl(t, "tablet", "list"),
		"ALIAS KEYSPACE SHARD TYPE ADDRESS HEALTH REPLICATION LAG CHECKED",
		"zone1-0000000100 user -80 primary 127.0.0.1:17100 unknown - - -",
		"zone1-0000000101 user -80 replica [::1]:17101 unknown - - -")
	// With health records (the failover controller writes them), the list
	// shows them.
	lag := int64(7)
	at := time.Date(2026, 12, 5, 21, 30, 0, 0, time.UTC)
	for _, h := range []*topo.TabletHealth{
		{Alias: topo.TabletAlias{Cell: "zone1", UID: 100}, Reachable: true, CheckedAt: at},
		{Alias: topo.TabletAlias{Cell: "zone1", UID: 101}, Reachable: true, ReadOnly: true, Replicating: true, IORunning: true, SQLRunning: true, LagSeconds: &lag, CheckedAt: at},
	} {
		if err := store(t).SaveTabletHealth(t.Context(), h); err != nil {
			t.Fatal(err)
		}
	}
	checkLines(t, "tablet list with health", mustCtl(t, "tablet", "list"),
		"ALIAS KEYSPACE SHARD TYPE ADDRESS HEALTH REPLICATION LAG CHECKED",
		"zone1-0000000100 user -80 primary 127.0.0.1:17100 ok none - 2026-12-05T21:30:00Z",
		"zone1-0000000101 user -80 replica [::1]:17101 ok running 7s 2026-12-05T21:30:00Z")
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestVSchema(t *testing.T) {
	mustCtl(t, "keyspace", "create", "user", "--sharded")
	mustCtl(t, "keyspace", "create", "global")

	// Implied empty vschemas.
	checkLines(t, "vschema get of global", mustCtl(t, "vschema", "get", "--keyspace", "global"), "{}")
	checkLines(t, "vschema get of user", mustCtl(t, "vschema", "get", "--keyspace", "user"), "{", `"sharded": true`, "}")

	global := writeFile(t, "global.json", `{"tables": {"user_seq": {"type": "sequence"}}}`)
	user := writeFile(t, "user.json", `{
	  "sharded": true,
	  "vindexes": {"hash": {"type": "hash"}},
	  "tables": {"user": {
	    "column_vindexes": [{"column": "id", "name": "hash"}],
	    "auto_increment": {"column": "id", "sequence": "user_seq"}}}}`)

	// The sequence must exist first; the error names it.
	_, errs, code := ctl(t, "vschema", "apply", "--keyspace", "user", "--file", user)
	if code != exitError || !strings.Contains(errs, `sequence "user_seq"`) {
		t.Errorf("vschema apply before the sequence exists: got exit %d, stderr %q, want 1 naming user_seq", code, errs)
	}
	checkLines(t, "vschema apply global", mustCtl(t, "vschema", "apply", "--keyspace", "global", "--file", global),
		"saved the vschema of keyspace global (1 tables, 0 vindexes)")
	mustCtl(t, "vschema", "apply", "--file", user, "--keyspace", "user")
	checkLines(t, "vschema get of user", mustCtl(t, "vschema", "get", "--keyspace", "user"),
		`{`,
		`"sharded": true,`,
		`"vindexes": {`,
		`"hash": {`,
		`"type": "hash"`,
		`}`,
		`},`,
		`"tables": {`,
		`"user": {`,
		`"column_vindexes": [`,
		`{`,
		`"column": "id",`,
		`"name": "hash"`,
		`}`,
		`],`,
		`"auto_increment": {`,
		`"column": "id",`,
		`"sequence": "user_seq"`,
		`}`,
		`}`,
		`}`,
		`}`)

	bad := writeFile(t, "bad.json", `{"sharded": true, "vindexes": {"h": {"type": "hsh"}}, "tables": {"t": {}}}`)
	_, errs, code = ctl(t, "vschema", "apply", "--keyspace", "user", "--file", bad)
	if code != exitError {
		t.Errorf("vschema apply of an invalid file: got exit %d, want 1", code)
	}
	for _, want := range []string{"bad.json", "2 problems", `  - unknown vindex type "hsh" for vindex "h"`, `  - sharded table "t" has no primary vindex`} {
		if !strings.Contains(errs, want) {
			t.Errorf("vschema apply of an invalid file: got stderr %q, want it to contain %q", errs, want)
		}
	}
	unknown := writeFile(t, "unknown.json", `{"sharded": true, "tabels": {}}`)
	if _, errs, code = ctl(t, "vschema", "apply", "--keyspace", "user", "--file", unknown); code != exitError || !strings.Contains(errs, `unknown field "tabels"`) {
		t.Errorf("vschema apply with an unknown field: got exit %d, stderr %q, want 1 naming the field", code, errs)
	}
	if _, errs, code = ctl(t, "vschema", "apply", "--keyspace", "global", "--file", user); code != exitError || !strings.Contains(errs, "sharded=true, but the keyspace is sharded=false") {
		t.Errorf("vschema apply of a sharded vschema to an unsharded keyspace: got exit %d, stderr %q, want 1 saying so", code, errs)
	}
	if _, errs, code = ctl(t, "vschema", "apply", "--keyspace", "nope", "--file", global); code != exitError || !strings.Contains(errs, `keyspace "nope"`) {
		t.Errorf("vschema apply to a missing keyspace: got exit %d, stderr %q, want 1 naming it", code, errs)
	}
	if _, errs, code = ctl(t, "vschema", "apply", "--keyspace", "user", "--file", filepath.Join(t.TempDir(), "missing.json")); code != exitError || !strings.Contains(errs, "missing.json") {
		t.Errorf("vschema apply of a missing file: got exit %d, stderr %q, want 1 naming it", code, errs)
	}
	if _, errs, code = ctl(t, "vschema", "get", "--keyspace", "nope"); code != exitError || !strings.Contains(errs, "doesn't exist") {
		t.Errorf("vschema get of a missing keyspace: got exit %d, stderr %q, want 1", code, errs)
	}
}

func TestUnreachableTopo(t *testing.T) {
	t.Parallel() // it waits out the 5s dial timeout
	var out, errb bytes.Buffer
	start := time.Now()
	code := run(t.Context(), []string{"--topo-endpoints", "127.0.0.1:1", "keyspace", "list"}, &out, &errb)
	if code != exitError || !strings.Contains(errb.String(), "127.0.0.1:1") {
		t.Errorf("keyspace list against a closed port: got exit %d, stderr %q, want 1 naming the endpoint", code, errb.String())
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("keyspace list against a closed port took %v, want under the 5s dial timeout", d)
	}
}

func TestTopoFromEnv(t *testing.T) {
	t.Setenv("SHARDGATE_TOPO", endpoints(t))
	var out, errb bytes.Buffer
	if code := run(t.Context(), []string{"--topo-root", root(t), "keyspace", "list"}, &out, &errb); code != 0 {
		t.Errorf("keyspace list with $SHARDGATE_TOPO: got exit %d (%s), want 0", code, errb.String())
	}
}

func TestRecoveriesList(t *testing.T) {
	checkLines(t, "recoveries list (none)", mustCtl(t, "recoveries", "list"),
		"TIME KEYSPACE SHARD OLD PRIMARY NEW PRIMARY DOWN FOR PROMOTION REASON")

	s, err := topo.Open(t.Context(), topo.Config{Endpoints: strings.Split(endpoints(t), ","), Root: root(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	at := time.Date(2026, 5, 4, 3, 2, 1, 0, time.UTC)
	err = failover.Record(t.Context(), s, &failover.Recovery{
		Time: at, Keyspace: "service", Shard: "-80", OldPrimary: "zone1-0000010000", NewPrimary: "zone1-0000010001",
		Reason: "connection refused", FailedAt: at.Add(-2500 * time.Millisecond), Duration: 40 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	checkLines(t, "recoveries list", mustCtl(t, "recoveries", "list"),
		"TIME KEYSPACE SHARD OLD PRIMARY NEW PRIMARY DOWN FOR PROMOTION REASON",
		"2026-05-04T03:02:01Z service -80 zone1-0000010000 zone1-0000010001 2.5s 40ms connection refused")
}
