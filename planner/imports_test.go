package planner

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportsNoNetwork keeps the package's rule (doc.go): planning opens
// no connection. The planner may see the topology only through the
// vschema types; it reaches shards only through the engine's VCursor, at
// run time, never while building.
func TestImportsNoNetwork(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to list imports with")
	}
	list := func(args ...string) []string {
		out, err := exec.Command(goBin, append(append([]string{"list"}, args...), ".")...).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", strings.Join(args, " "), err)
		}
		return strings.Fields(string(out))
	}
	for _, dep := range list("-deps") {
		for _, banned := range []string{
			"github.com/shardgate/shardgate/gateway", "github.com/shardgate/shardgate/tablet",
			"github.com/shardgate/shardgate/twopc", "go.etcd.io/", "google.golang.org/grpc",
			"github.com/go-mysql-org/go-mysql/client", "github.com/go-mysql-org/go-mysql/server",
			"github.com/go-mysql-org/go-mysql/packet",
		} {
			if dep == banned || strings.HasPrefix(dep, strings.TrimSuffix(banned, "/")+"/") {
				t.Errorf("planner depends on %s", dep)
			}
		}
		if strings.HasPrefix(dep, "github.com/shardgate/shardgate/topo") && dep != "github.com/shardgate/shardgate/topo/vschema" {
			t.Errorf("planner depends on %s (only topo/vschema's types are allowed)", dep)
		}
	}
	// net comes in through go-mysql's mysql package (field and error
	// types); the planner itself must not import it.
	for _, imp := range list("-f", "{{join .Imports \"\\n\"}}") {
		switch imp {
		case "net", "net/http", "net/netip", "database/sql", "os/exec", "syscall":
			t.Errorf("planner imports %s", imp)
		}
	}
}
