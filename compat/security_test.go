package compat_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/gateway"
	"github.com/shardgate/shardgate/gateway/gatewaytest"
)

// selfSignedTLS is a server TLS config with a fresh self-signed RSA
// certificate for 127.0.0.1.
func selfSignedTLS(t *testing.T) *tls.Config {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "shardgate compat"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12}
}

// startGateway starts another gateway over the shared cluster with cfg's
// security settings.
func startGateway(t *testing.T, change func(*gateway.Config)) string {
	t.Helper()
	cfg := gatewayConfig(shared.Get(t).Cluster)
	change(&cfg)
	gw, err := gateway.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := gw.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(gw.Close)
	return gw.Addr()
}

func selectOne(t *testing.T, addr, params string) error {
	t.Helper()
	db := gatewaytest.Open(t, fmt.Sprintf("%s:%s@tcp(%s)/%s?%s", user, password, addr, sharded, params))
	var one int
	return db.QueryRow("select 1").Scan(&one)
}

// TestTLS: with a certificate, clients that ask for TLS get it (go-sql-driver,
// the mariadb CLI's status shows the cipher) and plain clients still connect;
// with RequireTLS (--require-tls), a plain client is refused with 3159.
func TestTLS(t *testing.T) {
	tlsConf := selfSignedTLS(t)
	addr := startGateway(t, func(c *gateway.Config) { c.TLSConfig = tlsConf })
	if err := selectOne(t, addr, "tls=skip-verify"); err != nil {
		t.Fatal("TLS client:", err)
	}
	if err := selectOne(t, addr, ""); err != nil {
		t.Fatal("plain client without --require-tls:", err)
	}
	host, port, _ := net.SplitHostPort(addr)
	out := run(t, ".", "", need(t, "mariadb"), "-h"+host, "-P"+port, "-u"+user, "-p"+password, "--ssl", "--skip-ssl-verify-server-cert", "-e", "status", sharded)
	if !strings.Contains(out, "Cipher in use is TLS") {
		t.Errorf("mariadb --ssl status: no cipher in use:\n%s", out)
	}

	required := startGateway(t, func(c *gateway.Config) { c.TLSConfig, c.RequireTLS = tlsConf, true })
	wantMySQLError(t, selectOne(t, required, ""), 3159)
	if err := selectOne(t, required, "tls=skip-verify"); err != nil {
		t.Fatal("TLS client with --require-tls:", err)
	}
}

// TestCachingSha2Password: a gateway checking passwords with
// caching_sha2_password accepts go-sql-driver (full authentication over
// RSA on a plain connection, then the fast path from the cache; cleartext
// over TLS) and the mariadb CLI, and refuses a wrong password with 1045.
func TestCachingSha2Password(t *testing.T) {
	tlsConf := selfSignedTLS(t)
	addr := startGateway(t, func(c *gateway.Config) {
		c.AuthMethod = mysql.AUTH_CACHING_SHA2_PASSWORD
		c.TLSConfig = tlsConf
	})
	for _, params := range []string{"", "", "tls=skip-verify"} {
		if err := selectOne(t, addr, params); err != nil {
			t.Fatalf("caching_sha2_password %q: %v", params, err)
		}
	}
	db := gatewaytest.Open(t, fmt.Sprintf("%s:%s@tcp(%s)/%s", user, "wrong", addr, sharded))
	wantMySQLError(t, db.Ping(), 1045)
	host, port, _ := net.SplitHostPort(addr)
	out := run(t, ".", "", need(t, "mariadb"), "-h"+host, "-P"+port, "-u"+user, "-p"+password, "--batch", "-e", "select 'sha2 ok'", sharded)
	if !strings.Contains(out, "sha2 ok") {
		t.Errorf("mariadb CLI with caching_sha2_password: got %q", out)
	}
	// A gateway without TLS generates its own RSA key for the exchange.
	plain := startGateway(t, func(c *gateway.Config) { c.AuthMethod = mysql.AUTH_CACHING_SHA2_PASSWORD })
	if err := selectOne(t, plain, ""); err != nil {
		t.Fatal("caching_sha2_password without TLS:", err)
	}
}
