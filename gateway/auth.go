package gateway

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"slices"
	"sync/atomic"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/server"

	"github.com/shardgate/shardgate/acl"
	"github.com/shardgate/shardgate/sqlerror"
	"github.com/shardgate/shardgate/topo"
	"github.com/shardgate/shardgate/wire"
)

// erSecureTransportRequired is MySQL's ER_SECURE_TRANSPORT_REQUIRED (3159),
// sent to a client that logs in without TLS when RequireTLS is set.
const erSecureTransportRequired = 3159

// sha2CacheEntries bounds caching_sha2_password's fast-auth cache.
const sha2CacheEntries = 10000

// UserWatcher is what the gateway needs of a store of users (topo.Store):
// when Config.Topo has it, the users defined with `shardctl user` may log
// in, and changes apply without a restart.
type UserWatcher interface {
	// WatchUsers calls fn with every user and again after each change,
	// until ctx is done.
	WatchUsers(ctx context.Context, fn func([]*topo.User)) error
}

// newMySQLServer builds go-mysql's server for the configured auth method and
// TLS, with our authentication provider (auth is checked against the
// stored hashes, never a plaintext: see authProvider).
func newMySQLServer(cfg Config, h *authHandler) (*server.Server, error) {
	srv := server.NewServerWithAuth(cfg.ServerVersion, mysql.DEFAULT_COLLATION_ID, cfg.AuthMethod, h.rsaKey, cfg.TLSConfig, authProvider{})
	// LOAD DATA LOCAL INFILE (load_data.go): the client still decides
	// which files, if any, it sends.
	if err := srv.SetCapability(mysql.CLIENT_LOCAL_FILES); err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	return srv, nil
}

// rsaKeyFor is the key caching_sha2_password receives passwords with
// over plain connections: the TLS certificate's when it is an RSA key,
// else one generated here, once per gateway.
func rsaKeyFor(cfg Config) (*rsa.PrivateKey, []byte, error) {
	var key *rsa.PrivateKey
	if cfg.TLSConfig != nil && len(cfg.TLSConfig.Certificates) > 0 {
		key, _ = cfg.TLSConfig.Certificates[0].PrivateKey.(*rsa.PrivateKey)
	}
	if key == nil {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, nil, fmt.Errorf("gateway: RSA key for %s: %w", acl.CachingSHA2Password, err)
		}
		key = k
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, nil, fmt.Errorf("gateway: RSA public key: %w", err)
	}
	return key, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// authHandler decides who may log in: the users of etcd (UserWatcher),
// the bootstrap users of Config.Users, or, with InsecureNoAuth, anyone.
// One per gateway; each connection gets a connAuth.
type authHandler struct {
	// method is what the handshake announces; a user stored with the
	// other one is asked to switch.
	method     string
	requireTLS bool
	insecure   bool
	// limiter counts each user's logins and each address's failures.
	limiter *connLimiter
	logger  *slog.Logger

	// bootstrap are Config.Users' accounts (all privileges); users is
	// the set in force: the stored users plus bootstrap, swapped when
	// etcd changes.
	bootstrap []*acl.Account
	users     atomic.Pointer[acl.Users]
	// unknown, by method, is what a login for a user that doesn't exist
	// is checked against (acl.Unknown).
	unknown map[string]*acl.Account
	sha2    *acl.SHA2Cache
	rsaKey  *rsa.PrivateKey
	pubKey  []byte // PEM, sent to a client that asks for it
}

func newAuthHandler(cfg Config) (*authHandler, error) {
	h := &authHandler{
		method:     cfg.AuthMethod,
		requireTLS: cfg.RequireTLS,
		insecure:   cfg.InsecureNoAuth,
		logger:     cfg.Logger,
		unknown:    map[string]*acl.Account{},
		sha2:       acl.NewSHA2Cache(sha2CacheEntries),
	}
	for _, name := range slices.Sorted(maps.Keys(cfg.Users)) {
		a, err := acl.Superuser(name, cfg.AuthMethod, cfg.Users[name])
		if err != nil {
			return nil, fmt.Errorf("gateway: user %q: %w", name, err)
		}
		h.bootstrap = append(h.bootstrap, a)
	}
	for _, m := range []string{acl.NativePassword, acl.CachingSHA2Password} {
		h.unknown[m] = acl.Unknown("", m)
	}
	key, pub, err := rsaKeyFor(cfg)
	if err != nil {
		return nil, err
	}
	h.rsaKey, h.pubKey = key, pub
	h.setUsers(nil)
	return h, nil
}

// setUsers puts the stored users in force (with the bootstrap ones).
func (h *authHandler) setUsers(records []*topo.User) {
	users, errs := acl.NewUsers(records, h.bootstrap...)
	for _, err := range errs {
		h.logger.Warn("a stored user can't log in", "err", err)
	}
	h.users.Store(users)
}

// account is who name logs in as; nil if no such user.
func (h *authHandler) account(name string) *acl.Account {
	if h.insecure {
		return acl.Insecure(name, h.method)
	}
	return h.users.Load().Lookup(name)
}

// connAuth is one connection's view of the auth handler: go-mysql's
// AuthenticationHandler for the handshake.
type connAuth struct {
	h    *authHandler
	sess *session
	pre  *preAuthConn
	// writesAtCredential is pre.writes when go-mysql asked for the
	// credential: a write after it means go-mysql sent its own auth
	// switch, with a salt it keeps to itself.
	writesAtCredential int
	// account is who the client logged in as (set by the provider).
	account *acl.Account
}

var _ server.AuthenticationHandler = (*connAuth)(nil)

// GetCredential implements server.AuthenticationHandler. Every name is
// "found", with the announced method: go-mysql would answer an unknown
// user with 1449 naming it (user enumeration, issue 15 finding 6), and
// it checks plaintext passwords, which the gateway does not have; the
// provider checks against the stored hashes instead.
func (a *connAuth) GetCredential(string) (server.Credential, bool, error) {
	a.writesAtCredential, a.pre.switchSalt = a.pre.writes, nil
	return server.Credential{Passwords: []string{"(checked by the gateway)"}, AuthPluginName: a.h.method}, true, nil
}

// OnAuthSuccess runs after the password check and before the OK packet: an
// error here is what the client gets instead of the OK.
func (a *connAuth) OnAuthSuccess(c *server.Conn) error {
	h := a.h
	if h.requireTLS && !isTLS(c) {
		return errInsecureTransport()
	}
	if h.limiter != nil {
		user := c.GetUser()
		if err := h.limiter.addUser(user); err != nil {
			return sqlerror.ToMyError(err)
		}
		a.pre.user = &user // given back when the connection ends (serveConn)
	}
	// Only now may the database of the handshake be looked at (finding 6).
	return a.sess.loggedIn(c.GetUser(), a.account, isTLS(c))
}

// OnAuthFailure spends one of the client address's failed logins: a wrong
// password or an unknown user, not a client that went away.
func (a *connAuth) OnAuthFailure(c *server.Conn, err error) {
	var me *mysql.MyError
	if a.h.limiter != nil && errors.As(err, &me) && me.Code == mysql.ER_ACCESS_DENIED_ERROR {
		a.h.limiter.loginFailed(hostOf(c.RemoteAddr()))
	}
}

// authProvider is go-mysql's AuthenticationProvider: it hands the check
// to the connection's connAuth.
type authProvider struct{}

var _ server.AuthenticationProvider = authProvider{}

func (authProvider) Validate(method string) bool {
	return method == acl.NativePassword || method == acl.CachingSHA2Password
}

func (authProvider) Authenticate(c *server.Conn, plugin string, data []byte) error {
	pre := preAuthOf(c.Conn.Conn)
	if pre == nil || pre.auth == nil {
		return errors.New("gateway: connection without authentication state")
	}
	return pre.auth.authenticate(c, plugin, data)
}

// authenticate checks the client's first auth response (for plugin; the
// greeting's salt unless go-mysql switched) and runs whatever exchange
// the user's method needs.
func (a *connAuth) authenticate(c *server.Conn, plugin string, data []byte) error {
	h := a.h
	if h.requireTLS && !isTLS(c) {
		// Before any password is looked at (finding 6).
		return errInsecureTransport()
	}
	salt, switched := a.pre.salt, a.pre.writes != a.writesAtCredential
	if switched {
		// go-mysql asked the client to switch to the announced method
		// (the client answered with the other one), with a salt of its
		// own: read from its packet when the connection is plain; under
		// TLS it is unknown (nil), and verify does without it.
		salt = a.pre.switchSalt
	}
	user := c.GetUser()
	acct := h.account(user)
	x := &authExchange{w: wire.Writer{Conn: c}, read: c.ReadPacket, flush: func() error { return nil }, tls: isTLS(c)}
	ok, used, err := h.verify(x, acct, user, salt, plugin, data, switched)
	if err != nil {
		return err
	}
	if !ok {
		return errAccessDenied(user, hostOf(c.RemoteAddr()), used)
	}
	a.account = acct
	return nil
}

// authExchange is the packets of one login: the handshake's, or a
// COM_CHANGE_USER's (whose writes are buffered until flushed).
type authExchange struct {
	w     wire.Writer
	read  func() ([]byte, error)
	flush func() error
	tls   bool
}

func (x *authExchange) send(pkt []byte) ([]byte, error) {
	if err := x.w.Write(pkt); err != nil {
		return nil, err
	}
	if err := x.flush(); err != nil {
		return nil, err
	}
	data, err := x.read()
	if len(data) == 1 && data[0] == 0 {
		data = nil // an empty auth response sent as one NUL
	}
	return data, err
}

// verify checks a login for acct (nil: no such user, checked against
// h.unknown the same way): data is the client's response for plugin
// computed with salt (nil when unknown). When plugin isn't the user's
// method or the salt is unknown, the client is asked to switch, with a
// fresh salt — except where the client already switched once (switched:
// clients such as Connector/J 2.7 can't take a second switch) and the
// method is caching_sha2_password over TLS, whose full authentication
// needs no salt. used says whether the client sent a password (for 1045's
// "using password"). err is a broken exchange, not a wrong password.
func (h *authHandler) verify(x *authExchange, acct *acl.Account, user string, salt []byte, plugin string, data []byte, switched bool) (ok, used bool, err error) {
	if acct == nil {
		acct = h.unknown[h.method]
	}
	if len(data) == 1 && data[0] == 0 {
		data = nil
	}
	saltless := switched && salt == nil && x.tls && plugin == acct.Method && acct.Method == acl.CachingSHA2Password
	if !saltless && (plugin != acct.Method || salt == nil) {
		salt = mysql.RandomBuf(20)
		if data, err = x.send(wire.AppendAuthSwitch(x.w.Start(), acct.Method, salt)); err != nil {
			return false, false, err
		}
	}
	used = len(data) > 0
	if acct.Method == acl.NativePassword {
		return acct.CheckNative(salt, data), used, nil
	}
	// caching_sha2_password (MySQL's worklog 9591): an empty response is
	// an empty password; else the scramble is checked against the digest
	// cached by an earlier full authentication, or the password is asked
	// for (in clear over TLS, else RSA-encrypted).
	if !used {
		return !acct.HasPassword(), false, nil
	}
	if !acct.HasPassword() {
		return false, true, nil
	}
	if !saltless && h.sha2.FastAuth(acct, salt, data) {
		return true, true, x.w.Write(wire.AppendAuthMoreData(x.w.Start(), wire.SHA2FastAuthOK))
	}
	pw, err := x.send(wire.AppendAuthMoreData(x.w.Start(), wire.SHA2FullAuth))
	if err != nil {
		return false, true, err
	}
	if !x.tls {
		if len(pw) == 1 && pw[0] == wire.SHA2PublicKeyRequest {
			if pw, err = x.send(wire.AppendAuthMoreData(x.w.Start(), h.pubKey...)); err != nil {
				return false, true, err
			}
		}
		plain, derr := rsa.DecryptOAEP(sha1.New(), rand.Reader, h.rsaKey, pw, nil)
		if derr != nil {
			return false, true, nil // garbage instead of a password: a wrong one
		}
		pw = mysql.Xor(plain, salt)
	}
	if !acct.CheckSHA2Password(pw) {
		return false, true, nil
	}
	h.sha2.Remember(acct, pw)
	return true, true, nil
}

// errAccessDenied is MySQL's 1045, the same for a wrong password and an
// unknown user.
func errAccessDenied(user, host string, usedPassword bool) error {
	using := "NO"
	if usedPassword {
		using = "YES"
	}
	return sqlerror.ToMyError(sqlerror.New(sqlerror.User, mysql.ER_ACCESS_DENIED_ERROR,
		"Access denied for user '%s'@'%s' (using password: %s)", user, host, using))
}

func errInsecureTransport() error {
	return sqlerror.ToMyError(sqlerror.New(sqlerror.User, erSecureTransportRequired,
		"Connections using insecure transport are prohibited while --require-tls is set"))
}

// isTLS says whether the client upgraded to TLS in the handshake.
func isTLS(c *server.Conn) bool {
	_, ok := c.Conn.Conn.(*tls.Conn)
	return ok
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

// Write watches the server's packets until the login ends: the first is
// the greeting, whose salt the auth provider needs (go-mysql keeps it to
// itself); the count of writes tells whether go-mysql sent an auth switch
// of its own (connAuth.writesAtCredential). Under TLS the bytes are
// records, but they are still counted (and the count goes on, unused,
// after the login).
func (c *preAuthConn) Write(p []byte) (int, error) {
	switch {
	case c.writes == 0:
		c.salt = wire.GreetingSalt(p)
	case !c.off:
		// Plain, before the login: go-mysql's own auth switch, whose salt
		// it keeps to itself.
		if salt := wire.AuthSwitchSalt(p); salt != nil {
			c.switchSalt = salt
		}
	}
	c.writes++
	return c.Conn.Write(p)
}
