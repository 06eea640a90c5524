package planner

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/shardgate/shardgate/engine"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ from the planner's output")

// goldenCase is one entry of a testdata/*_cases.json file.
type goldenCase struct {
	Comment string          `json:"comment"`
	Query   string          `json:"query"`
	Target  string          `json:"target,omitempty"` // "ks" or "ks:shard"
	Args    []any           `json:"args,omitempty"`   // default: 1, 2, ... for each ?
	Plan    json.RawMessage `json:"plan,omitempty"`
	Error   string          `json:"error,omitempty"`
}

// goldenPlan is what a case's "plan" shows: the plan, and the shard calls
// executing it made against the logging fake.
type goldenPlan struct {
	QueryType    string          `json:"QueryType"`
	Instructions json.RawMessage `json:"Instructions"`
	Calls        []string        `json:"Calls"`
	ExecError    string          `json:"ExecError,omitempty"`
}

func parseTarget(s string) Target {
	ks, shard, _ := strings.Cut(s, ":")
	return Target{Keyspace: ks, Shard: shard}
}

// runCase plans and executes one case and fills in its plan or error.
func runCase(t *testing.T, c goldenCase) goldenCase {
	t.Helper()
	out := goldenCase{Comment: c.Comment, Query: c.Query, Target: c.Target, Args: c.Args}
	plan, err := buildCase(t, c)
	if err != nil {
		out.Error = err.Error()
		return out
	}
	instr, err := engine.PlanJSON(plan.Root)
	if err != nil {
		t.Fatalf("%q: PlanJSON: %v", c.Query, err)
	}
	args := normaliseArgs(c.Args)
	if args == nil {
		for i := 0; i < plan.ParamCount; i++ {
			args = append(args, int64(i+1))
		}
	}
	vc := newFakeVCursor()
	gp := goldenPlan{QueryType: plan.Type.String(), Instructions: instr}
	if _, err := plan.Root.Execute(context.Background(), vc, slices.Clone(args)); err != nil {
		gp.ExecError = err.Error()
	}
	gp.Calls = vc.log
	if plan.Type == StmtSet || plan.Type == StmtAccepted {
		checkStreamAgreesNoRows(t, c, plan, args)
	}
	if streamedInProduction(plan.Type) {
		for _, n := range []int{1, 3} {
			checkStreamAgrees(t, c, plan, args, n)
		}
	}
	if gp.Calls == nil {
		gp.Calls = []string{}
	}
	b, err := json.Marshal(gp)
	if err != nil {
		t.Fatal(err)
	}
	out.Plan = b
	return out
}

// buildCase plans a case's query as the gateway does: the Vitess
// statements from their text (BuildVitess), anything else parsed.
func buildCase(t *testing.T, c goldenCase) (*Plan, error) {
	t.Helper()
	vs, p := loadVSchema(t), NewParser()
	if plan, ok, err := BuildVitess(p, c.Query, vs, parseTarget(c.Target)); ok {
		return plan, err
	}
	stmts, err := p.Parse(c.Query)
	if err != nil {
		return nil, err
	}
	if len(stmts) != 1 {
		t.Fatalf("%q: want one statement, got %d", c.Query, len(stmts))
	}
	return Build(stmts[0], c.Query, vs, parseTarget(c.Target))
}

// streamedInProduction says which plans a result set may come from, so
// Stream must agree with Execute: SELECTs, and the statements the gateway
// answers (SHOW, LAST_INSERT_ID(), NEXT VALUES, VEXPLAIN).
func streamedInProduction(t StmtType) bool {
	switch t {
	case StmtSelect, StmtShow, StmtLocal, StmtVExplain:
		return true
	}
	return false
}

// normaliseArgs turns JSON numbers into int64 where they are whole.
func normaliseArgs(in []any) []any {
	if in == nil {
		return nil
	}
	out := make([]any, len(in))
	for i, a := range in {
		if f, ok := a.(float64); ok && f == float64(int64(f)) {
			out[i] = int64(f)
			continue
		}
		out[i] = a
	}
	return out
}

func readCases(t *testing.T, path string) []goldenCase {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cases []goldenCase
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return cases
}

func marshalCases(t *testing.T, cases []goldenCase) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(cases); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func canonical(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return string(raw)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// TestGolden runs every testdata/*_cases.json file. `go test ./planner
// -update` rewrites them from the current output.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*_cases.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			cases := readCases(t, file)
			got := make([]goldenCase, len(cases))
			for i, c := range cases {
				got[i] = runCase(t, c)
				if *update {
					continue
				}
				if got[i].Error != c.Error || canonical(got[i].Plan) != canonical(c.Plan) {
					t.Errorf("%s: case %q\nquery: %s\n got: %s %s\nwant: %s %s", file, c.Comment, c.Query,
						got[i].Error, got[i].Plan, c.Error, canonical(c.Plan))
				}
			}
			if *update {
				if err := os.WriteFile(file, marshalCases(t, got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// TestOne runs testdata/onecase.json and prints its output, for debugging
// one query without touching the golden files.
func TestOne(t *testing.T) {
	cases := readCases(t, "testdata/onecase.json")
	for _, c := range cases {
		got := runCase(t, c)
		t.Logf("%s", marshalCases(t, []goldenCase{got}))
	}
}
