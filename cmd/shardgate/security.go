package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/gateway"
	"github.com/shardgate/shardgate/topo"
)

// securityFlags are the client-facing TLS and authentication flags of
// `serve` and `up`.
type securityFlags struct {
	tlsCert    string
	tlsKey     string
	requireTLS bool
	authMethod string
	// insecureNoAuth: anyone logs in, any password, every privilege.
	insecureNoAuth bool
}

func (f *securityFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.tlsCert, "tls-cert", "", "PEM certificate (chain) clients see when they upgrade to TLS; needs --tls-key")
	fs.StringVar(&f.tlsKey, "tls-key", "", "PEM private key of --tls-cert")
	fs.BoolVar(&f.requireTLS, "require-tls", false, "refuse clients that do not use TLS (error 3159); needs --tls-cert")
	fs.StringVar(&f.authMethod, "auth-method", mysql.AUTH_NATIVE_PASSWORD, "how the handshake asks for passwords (and --user's is checked): mysql_native_password or caching_sha2_password; a stored user of the other method is asked to switch")
	fs.BoolVar(&f.insecureNoAuth, "insecure-no-auth", false, "INSECURE: let anyone log in with any user name and password, with every privilege (serve refuses to start with no users otherwise)")
}

// apply loads the certificate and sets the gateway's TLS and auth fields.
func (f *securityFlags) apply(cfg *gateway.Config) error {
	cfg.AuthMethod = f.authMethod
	cfg.InsecureNoAuth = f.insecureNoAuth
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

// checkUsersConfigured refuses a `serve` that nobody could log in to, or
// that would let everyone in without being told to: some user must be
// configured, a bootstrap one (--user) or one stored in etcd (`shardctl
// user add`), unless --insecure-no-auth says anyone may.
func checkUsersConfigured(ctx context.Context, store *topo.Store, cfg gateway.Config) error {
	if cfg.InsecureNoAuth || len(cfg.Users) > 0 {
		return nil
	}
	users, err := store.ListUsers(ctx)
	if err != nil {
		return fmt.Errorf("reading the users: %w", err)
	}
	if len(users) == 0 {
		return errors.New("no users configured: add one with `shardctl user add NAME --password P` and `shardctl grant`, " +
			"or give a bootstrap admin with --user/--password, or run with --insecure-no-auth to let anyone in")
	}
	return nil
}
