package gateway

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"errors"
	"fmt"
	"net"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/server"

	"github.com/shardgate/shardgate/sqlerror"
	"github.com/shardgate/shardgate/wire"
)

// erSecureTransportRequired is MySQL's ER_SECURE_TRANSPORT_REQUIRED (3159),
// sent to a client that logs in without TLS when RequireTLS is set.
const erSecureTransportRequired = 3159

// newMySQLServer builds go-mysql's server for the configured auth method and
// TLS. caching_sha2_password needs an RSA key to receive passwords over
// plain connections: the TLS certificate's when it is an RSA key, else one
// generated here, once per gateway.
func newMySQLServer(cfg Config) (*server.Server, error) {
	var rsaKey *rsa.PrivateKey
	if cfg.AuthMethod != mysql.AUTH_NATIVE_PASSWORD {
		if cfg.TLSConfig != nil && len(cfg.TLSConfig.Certificates) > 0 {
			rsaKey, _ = cfg.TLSConfig.Certificates[0].PrivateKey.(*rsa.PrivateKey)
		}
		if rsaKey == nil {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				return nil, fmt.Errorf("gateway: RSA key for %s: %w", cfg.AuthMethod, err)
			}
			rsaKey = k
		}
	}
	srv := server.NewServer(cfg.ServerVersion, mysql.DEFAULT_COLLATION_ID, cfg.AuthMethod, rsaKey, cfg.TLSConfig)
	// LOAD DATA LOCAL INFILE (load_data.go): the client still decides
	// which files, if any, it sends.
	if err := srv.SetCapability(mysql.CLIENT_LOCAL_FILES); err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	return srv, nil
}

// authHandler checks passwords (every user with the configured method; a
// client that starts with another one is asked to switch) and, with
// RequireTLS, refuses a login that did not upgrade to TLS.
type authHandler struct {
	*server.InMemoryAuthenticationHandler
	requireTLS bool
	// limiter counts each user's logins and each address's failures.
	limiter *connLimiter
}

var _ server.AuthenticationHandler = (*authHandler)(nil)

func newAuthHandler(cfg Config) (*authHandler, error) {
	h := &authHandler{
		InMemoryAuthenticationHandler: server.NewInMemoryAuthenticationHandler(cfg.AuthMethod),
		requireTLS:                    cfg.RequireTLS,
	}
	for user, password := range cfg.Users {
		if err := h.AddUser(user, password); err != nil {
			return nil, fmt.Errorf("gateway: user %q: %w", user, err)
		}
	}
	return h, nil
}

// OnAuthSuccess runs after the password check and before the OK packet: an
// error here is what the client gets instead of the OK.
func (h *authHandler) OnAuthSuccess(c *server.Conn) error {
	if h.requireTLS {
		if _, ok := c.Conn.Conn.(*tls.Conn); !ok {
			return sqlerror.ToMyError(sqlerror.New(sqlerror.User, erSecureTransportRequired,
				"Connections using insecure transport are prohibited while --require-tls is set"))
		}
	}
	pre := preAuthOf(c.Conn.Conn)
	if h.limiter == nil || pre == nil {
		return nil
	}
	user := c.GetUser()
	if err := h.limiter.addUser(user); err != nil {
		return sqlerror.ToMyError(err)
	}
	pre.user = &user // given back when the connection ends (serveConn)
	return nil
}

// OnAuthFailure spends one of the client address's failed logins: a wrong
// password or an unknown user, not a client that went away.
func (h *authHandler) OnAuthFailure(c *server.Conn, err error) {
	var me *mysql.MyError
	if h.limiter != nil && errors.As(err, &me) && me.Code == mysql.ER_ACCESS_DENIED_ERROR {
		h.limiter.loginFailed(hostOf(c.RemoteAddr()))
	}
	h.InMemoryAuthenticationHandler.OnAuthFailure(c, err)
}

// preAuthOf finds the connection's preAuthConn under go-mysql's
// connection: the buffered connection's, or the one below TLS.
func preAuthOf(c net.Conn) *preAuthConn {
	if t, ok := c.(*tls.Conn); ok {
		c = t.NetConn()
	}
	if b, ok := c.(*wire.BufferedConn); ok {
		c = b.Conn
	}
	pre, _ := c.(*preAuthConn)
	return pre
}
