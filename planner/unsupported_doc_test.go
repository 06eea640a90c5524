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
// golden case, and each golden refusal is documented.
func TestUnsupportedDoc(t *testing.T) {
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
	files, err := filepath.Glob("testdata/*_cases.json")
	if err != nil {
		t.Fatal(err)
	}
	golden := map[string]string{}
	for _, f := range files {
		for _, c := range readCases(t, f) {
			e := c.Error
			if !strings.Contains(e, "ERROR 1235") && len(c.Plan) > 0 {
				var p goldenPlan
				if err := json.Unmarshal(c.Plan, &p); err == nil {
					e = p.ExecError
				}
			}
			if strings.Contains(e, "ERROR 1235") {
				golden[e] = f + ": " + c.Query
			}
		}
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
