package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"flag"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shardgate/shardgate/gateway"
)

func TestSecurityFlags(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeCert(t, certFile, keyFile)
	for _, tc := range []struct {
		args    []string
		wantErr string
		wantTLS bool
	}{
		{args: nil},
		{args: []string{"--tls-cert", certFile, "--tls-key", keyFile}, wantTLS: true},
		{args: []string{"--tls-cert", certFile, "--tls-key", keyFile, "--require-tls", "--auth-method", "caching_sha2_password"}, wantTLS: true},
		{args: []string{"--require-tls"}, wantErr: "--require-tls needs"},
		{args: []string{"--tls-cert", certFile}, wantErr: "go together"},
		{args: []string{"--tls-cert", keyFile, "--tls-key", keyFile}, wantErr: "--tls-cert/--tls-key"},
		{args: []string{"--auth-method", "sha256_password"}, wantErr: "--auth-method"},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		var f securityFlags
		f.register(fs)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		var cfg gateway.Config
		err := f.apply(&cfg)
		switch {
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%v: got error %v, want one containing %q", tc.args, err, tc.wantErr)
		case tc.wantErr == "" && err != nil:
			t.Errorf("%v: %v", tc.args, err)
		case tc.wantErr == "" && (cfg.TLSConfig != nil) != tc.wantTLS:
			t.Errorf("%v: got TLS config %v, want %v", tc.args, cfg.TLSConfig != nil, tc.wantTLS)
		}
	}
}

func writeCert(t *testing.T, certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "t"}, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
}
