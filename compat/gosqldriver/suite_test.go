package gosqldriver_test

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// go-sql-driver/mysql's own test suite (the version in go.mod), run once
// against the gateway's unsharded keyspace and once against that
// keyspace's MariaDB directly, in parallel: every test that passes
// directly must pass through the gateway. An unsharded keyspace passes
// through what MariaDB accepts, so this is the driver's whole view of
// MariaDB. Excluded, in both runs: TestConnectorReturnsTimeout dials an
// internet address (these machines reach none, and the driver then
// panics). TLS and unix-socket tests fail directly too (the cluster has no
// certificate and the test connects over TCP), so they are outside the
// comparison on their own.
func TestGoSQLDriverSuite(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the driver's whole suite twice (about two minutes)")
	}
	env := shared.Get(t)
	dir := driverSourceDir(t)
	direct := env.Cluster.Primary(unsharded, "0")
	if direct == nil {
		t.Fatal("no primary for the unsharded keyspace")
	}
	const directDB = "gosqldriver_direct"
	mustExec(t, env, "create database if not exists "+directDB)

	var wg sync.WaitGroup
	var viaGateway, viaMariaDB map[string]bool
	var gatewayOutput map[string][]string
	wg.Add(2)
	go func() {
		defer wg.Done()
		viaGateway, gatewayOutput = runDriverSuite(t, dir, env.Gateway.Addr(), user, password, unsharded)
	}()
	go func() {
		defer wg.Done()
		viaMariaDB, _ = runDriverSuite(t, dir, direct.Mysqld.Addr(), "root", "", directDB)
	}()
	wg.Wait()
	if t.Failed() {
		return
	}
	var passedDirect, failedGateway []string
	for name, ok := range viaMariaDB {
		if !ok {
			continue
		}
		passedDirect = append(passedDirect, name)
		if !viaGateway[name] {
			failedGateway = append(failedGateway, name)
		}
	}
	slices.Sort(failedGateway)
	t.Logf("go-sql-driver suite: %d tests pass against MariaDB directly, %d of them fail through the gateway", len(passedDirect), len(failedGateway))
	if len(passedDirect) < 50 {
		t.Fatalf("only %d driver tests passed against MariaDB directly: the run itself is broken", len(passedDirect))
	}
	for _, name := range failedGateway {
		if why, known := knownGatewayFailures()[name]; known {
			t.Logf("known: %s fails through the gateway (%s)", name, why)
			continue
		}
		t.Errorf("%s passes against MariaDB directly, fails through the gateway; its output:\n%s", name, strings.Join(gatewayOutput[name], ""))
	}
	for name := range knownGatewayFailures() {
		if viaMariaDB[name] && viaGateway[name] {
			t.Errorf("%s now passes through the gateway: take it off knownGatewayFailures", name)
		}
	}
}

// knownGatewayFailures are the driver's tests that still fail through the
// gateway, with what is missing (docs/NOTES.md, issue 14). The list only
// shrinks: a test on it that passes fails this one, so it gets removed.
func knownGatewayFailures() map[string]string {
	return map[string]string{}
}

// driverSourceDir is where the module cache holds go.mod's version of the
// driver, tests included.
func driverSourceDir(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/go-sql-driver/mysql").Output()
	if err != nil {
		t.Fatalf("go list the driver's module: %v", err)
	}
	dir := strings.TrimSpace(string(out))
	if dir == "" {
		t.Fatal("go list gave no directory for github.com/go-sql-driver/mysql")
	}
	return dir
}

// runDriverSuite runs the driver's tests against addr and returns each
// top-level test's outcome (true: passed) and the last lines it printed
// (subtests included), to say why one failed.
func runDriverSuite(t *testing.T, dir, addr, user, password, db string) (map[string]bool, map[string][]string) {
	// Well past a quiet machine's 3 minutes: on a loaded one the run
	// through the gateway outlasted go test's default 10-minute timeout
	// and every test not reached yet counted as failing.
	ctx, cancel := context.WithTimeout(context.Background(), 18*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "test", "-count=1", "-timeout", "17m", "-json", "-skip", "^TestConnectorReturnsTimeout$", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"GOFLAGS=-mod=mod", // the module cache holds the driver's go.mod, not ours
		"MYSQL_TEST_ADDR="+addr, "MYSQL_TEST_USER="+user, "MYSQL_TEST_PASS="+password, "MYSQL_TEST_DBNAME="+db)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, _ := cmd.Output() // a failing test makes go test exit 1
	results, output := map[string]bool{}, map[string][]string{}
	finished, timedOut := false, "" // timedOut: the test running when the binary's timeout struck
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var ev struct{ Action, Test, Output string }
		if json.Unmarshal(sc.Bytes(), &ev) != nil {
			continue
		}
		if strings.Contains(ev.Output, "panic: test timed out") {
			timedOut = cmp.Or(ev.Test, "?")
		}
		if ev.Test == "" {
			// The package's own pass or fail ends a run; one cut short by
			// the test binary's timeout ends so too, with tests unrun.
			finished = finished || ev.Action == "pass" || ev.Action == "fail"
			continue
		}
		top, _, _ := strings.Cut(ev.Test, "/")
		if ev.Action == "output" {
			lines := append(output[top], ev.Output)
			output[top] = lines[max(0, len(lines)-40):]
		}
		if top != ev.Test {
			continue
		}
		switch ev.Action {
		case "pass", "skip":
			results[ev.Test] = true
		case "fail":
			results[ev.Test] = false
		}
	}
	if len(results) == 0 {
		t.Errorf("the driver's suite against %s reported no tests: %s", addr, stderr.String())
	} else if !finished || timedOut != "" {
		// Every test not reached would count as failing: say what happened instead.
		t.Errorf("the driver's suite against %s did not finish (%d tests reported; timed out in %q; %v): %s", addr, len(results), timedOut, ctx.Err(), stderr.String())
	}
	return results, output
}
