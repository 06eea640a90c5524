package main

import (
	"crypto/tls"
	"errors"
	"flag"
	"fmt"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/gateway"
)

// securityFlags are the client-facing TLS and authentication flags of
// `serve` and `up`.
type securityFlags struct {
	tlsCert    string
	tlsKey     string
	requireTLS bool
	authMethod string
}

func (f *securityFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.tlsCert, "tls-cert", "", "PEM certificate (chain) clients see when they upgrade to TLS; needs --tls-key")
	fs.StringVar(&f.tlsKey, "tls-key", "", "PEM private key of --tls-cert")
	fs.BoolVar(&f.requireTLS, "require-tls", false, "refuse clients that do not use TLS (error 3159); needs --tls-cert")
	fs.StringVar(&f.authMethod, "auth-method", mysql.AUTH_NATIVE_PASSWORD, "how client passwords are checked: mysql_native_password or caching_sha2_password")
}

// apply loads the certificate and sets the gateway's TLS and auth fields.
func (f *securityFlags) apply(cfg *gateway.Config) error {
	cfg.AuthMethod = f.authMethod
	switch f.authMethod {
	case mysql.AUTH_NATIVE_PASSWORD, mysql.AUTH_CACHING_SHA2_PASSWORD:
	default:
		return fmt.Errorf("--auth-method %q: want %s or %s", f.authMethod, mysql.AUTH_NATIVE_PASSWORD, mysql.AUTH_CACHING_SHA2_PASSWORD)
	}
	if (f.tlsCert == "") != (f.tlsKey == "") {
		return errors.New("--tls-cert and --tls-key go together")
	}
	if f.tlsCert == "" {
		if f.requireTLS {
			return errors.New("--require-tls needs --tls-cert and --tls-key")
		}
		return nil
	}
	cert, err := tls.LoadX509KeyPair(f.tlsCert, f.tlsKey)
	if err != nil {
		return fmt.Errorf("--tls-cert/--tls-key: %w", err)
	}
	cfg.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	cfg.RequireTLS = f.requireTLS
	return nil
}
