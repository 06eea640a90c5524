package planner

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestUnsupportedDoc checks that docs/UNSUPPORTED.md lists exactly the
// 1235 refusals the golden files produce: each documented error text has a
// golden case, and each golden refusal is documented. With -update it
// rewrites the doc's table from the golden files first.
func TestUnsupportedDoc(t *testing.T) {
	if *update {
		rewriteUnsupportedDoc(t)
	}
	doc, err := os.ReadFile("../docs/UNSUPPORTED.md")
	if err != nil {
		t.Fatal(err)
	}
	var documented []string
	section := ""
	for _, line := range strings.Split(string(doc), "\n") {
		if strings.HasPrefix(line, "## ") {
			section = line
		}
		if section != "## Refused when planning" || !strings.HasPrefix(line, "| ") {
			continue
		}
		cells := strings.Split(strings.ReplaceAll(line, `\|`, "\x00"), "|")
		if len(cells) < 4 {
			continue
		}
		e := strings.TrimSpace(cells[len(cells)-2])
		if !strings.HasPrefix(e, "`` ") {
			continue
		}
		e = strings.TrimSuffix(strings.TrimPrefix(e, "`` "), " ``")
		documented = append(documented, strings.ReplaceAll(e, "\x00", "|"))
	}
	golden := map[string]string{}
	for _, r := range goldenRefusals(t) {
		golden[r.err] = r.file + ": " + r.c.Query
	}
	for _, e := range documented {
		if _, ok := golden[e]; !ok {
			t.Errorf("docs/UNSUPPORTED.md lists %q, but no golden case produces it", e)
		}
	}
	for e, where := range golden {
		if !slices.Contains(documented, e) {
			t.Errorf("%s is refused with %q, which docs/UNSUPPORTED.md does not list", where, e)
		}
	}
	if len(documented) == 0 {
		t.Fatal("no refusals found in docs/UNSUPPORTED.md")
	}
}

type refusal struct {
	err, file string
	c         goldenCase
}

// goldenRefusals lists the distinct 1235 errors of the golden files, each
// with its first case, in file order.
func goldenRefusals(t *testing.T) []refusal {
	t.Helper()
	files, err := filepath.Glob("testdata/*_cases.json")
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(files)
	seen := map[string]bool{}
	var out []refusal
	for _, f := range files {
		for _, c := range readCases(t, f) {
			e := c.Error
			if !strings.Contains(e, "ERROR 1235") && len(c.Plan) > 0 {
				var p goldenPlan
				if err := json.Unmarshal(c.Plan, &p); err == nil {
					e = p.ExecError
				}
			}
			if strings.Contains(e, "ERROR 1235") && !seen[e] {
				seen[e] = true
				out = append(out, refusal{err: e, file: f, c: c})
			}
		}
	}
	return out
}

// rewriteUnsupportedDoc replaces the table of the "Refused when planning"
// section with one row per golden refusal.
func rewriteUnsupportedDoc(t *testing.T) {
	t.Helper()
	const path = "../docs/UNSUPPORTED.md"
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	start := strings.Index(text, "| Construct | Example | Error |")
	end := strings.Index(text, "\n## Refused while executing")
	if start < 0 || end < start {
		t.Fatal("docs/UNSUPPORTED.md: cannot find the refusal table")
	}
	cell := func(s string) string { return "`` " + strings.ReplaceAll(s, "|", `\|`) + " ``" }
	var sb strings.Builder
	sb.WriteString("| Construct | Example | Error |\n|---|---|---|\n")
	for _, r := range goldenRefusals(t) {
		sb.WriteString("| " + strings.ReplaceAll(r.c.Comment, "|", `\|`) + " | " + cell(r.c.Query) + " | " + cell(r.err) + " |\n")
	}
	if err := os.WriteFile(path, []byte(text[:start]+sb.String()+text[end:]), 0o644); err != nil {
		t.Fatal(err)
	}
}
