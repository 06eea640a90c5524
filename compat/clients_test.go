package compat_test

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/gateway"
)

// need returns the path of a client program, failing the test with the
// install step when it is missing (scripts/install-deps.sh installs all).
func need(t *testing.T, program string) string {
	t.Helper()
	path, err := exec.LookPath(program)
	if err != nil {
		t.Fatalf("%s is not installed: run scripts/install-deps.sh", program)
	}
	return path
}

// run runs a client program with a time limit and returns its stdout,
// failing the test with both outputs if it fails.
func run(t *testing.T, dir string, stdin string, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", name, strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

const connectorJ = "/usr/share/java/mariadb-java-client.jar"

// TestJavaConnectorJ compiles compat/java/Compat.java and runs it with
// MariaDB Connector/J against the gateway.
func TestJavaConnectorJ(t *testing.T) {
	javac, java := need(t, "javac"), need(t, "java")
	if _, err := os.Stat(connectorJ); err != nil {
		t.Fatalf("%s missing: run scripts/install-deps.sh (libmariadb-java)", connectorJ)
	}
	out := t.TempDir()
	run(t, "java", "", javac, "-cp", connectorJ, "-d", out, "Compat.java")
	host, port := shared.Get(t).HostPort()
	tlsPort := requireTLSGateway(t)
	// Connector/J's generated keys straight from MariaDB are the reference
	// for the gateway's sequence-generated ones.
	direct := shared.Get(t).Cluster.Primary(unsharded, "0")
	if direct == nil {
		t.Fatal("no primary for the unsharded keyspace")
	}
	got := run(t, ".", "", java, "-cp", connectorJ+":"+out, "Compat", host, port, user, password, unsharded, sharded, tlsPort, direct.Mysqld.Addr())
	want := "ok uks\nok sks\nok generated keys\nok sequence keys\nok tls\n"
	if got != want {
		t.Fatalf("Compat.java: got %q, want %q", got, want)
	}
}

// TestPyMySQL runs compat/python/compat.py with Debian's python3-pymysql.
func TestPyMySQL(t *testing.T) {
	python := "/usr/bin/python3" // Debian's, which python3-pymysql installs into
	if _, err := os.Stat(python); err != nil {
		python = need(t, "python3")
	}
	host, port := shared.Get(t).HostPort()
	got := run(t, "python", "", python, "compat.py", host, port, user, password, unsharded, sharded, "tls="+requireTLSGateway(t))
	if want := "ok uks\nok sks\nok tls\n"; got != want {
		t.Fatalf("compat.py: got %q, want %q", got, want)
	}
}

// TestNodeMySQL2 runs compat/node/compat.js with mysql2, installed from
// compat/node/package-lock.json by npm ci when missing.
func TestNodeMySQL2(t *testing.T) {
	node := need(t, "node")
	if _, err := os.Stat("node/node_modules/mysql2/package.json"); err != nil {
		run(t, "node", "", need(t, "npm"), "ci", "--no-audit", "--no-fund")
	}
	host, port := shared.Get(t).HostPort()
	got := run(t, "node", "", node, "compat.js", host, port, user, password, unsharded, sharded, "tls="+requireTLSGateway(t))
	if want := "ok uks\nok sks\nok tls\n"; got != want {
		t.Fatalf("compat.js: got %q, want %q", got, want)
	}
}

// requireTLSGateway starts a gateway with --require-tls and
// caching_sha2_password over the shared cluster and returns its port.
func requireTLSGateway(t *testing.T) string {
	t.Helper()
	addr := startGateway(t, func(c *gateway.Config) {
		c.TLSConfig, c.RequireTLS, c.AuthMethod = selfSignedTLS(t), true, mysql.AUTH_CACHING_SHA2_PASSWORD
	})
	_, port, _ := net.SplitHostPort(addr)
	return port
}
