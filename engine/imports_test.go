package engine

import (
	"os/exec"
	"strings"
	"testing"
)

// goList runs `go list` on this package with args and returns the words it
// prints.
func goList(t *testing.T, args ...string) []string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to list imports with")
	}
	out, err := exec.Command(goBin, append([]string{"list"}, append(args, ".")...)...).Output()
	if err != nil {
		t.Fatalf("go list %s: %v", strings.Join(args, " "), err)
	}
	return strings.Fields(string(out))
}

// TestImportsNoParserNorNetwork keeps the package's rule (doc.go): plans
// run without the SQL parser's AST, reach shards only through VCursor, and
// know nothing of the packages that build or serve them.
func TestImportsNoParserNorNetwork(t *testing.T) {
	for _, dep := range goList(t, "-deps") {
		if strings.HasPrefix(dep, "github.com/pingcap/tidb/pkg/parser") {
			t.Errorf("engine depends on the parser package %s", dep)
		}
		for _, ours := range []string{"planner", "gateway", "tablet", "twopc", "topo", "reshard", "failover", "cmd"} {
			p := "github.com/shardgate/shardgate/" + ours
			if dep == p || strings.HasPrefix(dep, p+"/") {
				t.Errorf("engine depends on %s", dep)
			}
		}
	}
	// net is reached through go-mysql's mysql package (for uuid), which
	// engine uses only for field and error types; engine itself must not
	// open connections.
	for _, imp := range goList(t, "-f", "{{join .Imports \"\\n\"}}") {
		switch imp {
		case "net", "net/http", "net/netip", "database/sql", "os/exec":
			t.Errorf("engine imports %s", imp)
		}
	}
}
