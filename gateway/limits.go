package gateway

import (
	"io"
	"net"
	"sync"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/sqlerror"
	"github.com/shardgate/shardgate/wire"
)

// Limits bound what clients may cost the gateway (issue 15, finding 4 and
// the limits list); docs/SECURITY.md says why each default is what it is.
// A zero field takes its default; a negative one turns the limit off.
type Limits struct {
	// MaxConnections bounds the client connections open at once,
	// authenticated or not; past it a new client gets 1040 "Too many
	// connections" instead of the handshake, as from MySQL.
	MaxConnections int
	// MaxUserConnections bounds one user's connections (0: no bound, as
	// MySQL's max_user_connections); past it the login gets 1203.
	MaxUserConnections int
	// HandshakeTimeout bounds the whole login, from accept to the OK
	// packet (MySQL's connect_timeout is 10 s).
	HandshakeTimeout time.Duration
	// NetReadTimeout bounds the wait for the rest of a packet once its
	// first byte came (MySQL's net_read_timeout, 30 s): a client that
	// stalls mid-packet is disconnected.
	NetReadTimeout time.Duration
	// LoginFailureBurst failed logins from one client address are allowed
	// at once, then one per LoginFailureInterval; a client address past
	// that is refused with 1129 before the handshake until its budget
	// refills.
	LoginFailureBurst    int
	LoginFailureInterval time.Duration
}

// The defaults of Limits.
const (
	DefaultMaxConnections       = 1000
	DefaultHandshakeTimeout     = 10 * time.Second
	DefaultNetReadTimeout       = 30 * time.Second
	DefaultLoginFailureBurst    = 10
	DefaultLoginFailureInterval = time.Second
	// DefaultPoolWaitTimeout is BackendConfig.PoolWaitTimeout's default.
	DefaultPoolWaitTimeout = 5 * time.Second
	// PreAuthMaxPacket bounds a client packet before it has logged in:
	// a handshake response with the longest user, database, auth data and
	// connection attributes fits in it, and a stranger's length header
	// can no longer make the gateway allocate 16 MiB (issue 15, finding 2).
	PreAuthMaxPacket = 64 << 10
)

// withDefaults fills the zero fields.
func (l Limits) withDefaults() Limits {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	defDuration := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	def(&l.MaxConnections, DefaultMaxConnections)
	def(&l.LoginFailureBurst, DefaultLoginFailureBurst)
	defDuration(&l.HandshakeTimeout, DefaultHandshakeTimeout)
	defDuration(&l.NetReadTimeout, DefaultNetReadTimeout)
	defDuration(&l.LoginFailureInterval, DefaultLoginFailureInterval)
	return l
}

// connLimiter counts connections per user and failed logins per client
// address. Safe for concurrent use.
type connLimiter struct {
	limits Limits

	mu    sync.Mutex
	users map[string]int
	// failures is a token bucket per client IP: tokens are the failures
	// it may still have; a full bucket is dropped from the map.
	failures map[string]*loginBucket
}

type loginBucket struct {
	tokens float64
	at     time.Time
}

func newConnLimiter(l Limits) *connLimiter {
	return &connLimiter{limits: l, users: map[string]int{}, failures: map[string]*loginBucket{}}
}

// addUser counts a login of user, or refuses it with 1203 past
// MaxUserConnections. A counted login is given back with removeUser.
func (l *connLimiter) addUser(user string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if max := l.limits.MaxUserConnections; max > 0 && l.users[user] >= max {
		return sqlerror.New(sqlerror.User, mysql.ER_TOO_MANY_USER_CONNECTIONS,
			"User %s already has more than 'max_user_connections' active connections", user)
	}
	l.users[user]++
	return nil
}

func (l *connLimiter) removeUser(user string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.users[user]--; l.users[user] <= 0 {
		delete(l.users, user)
	}
}

// bucket returns ip's bucket refilled up to now; nil when it is full
// (and then forgotten). Called with mu held.
func (l *connLimiter) bucket(ip string, now time.Time) *loginBucket {
	b := l.failures[ip]
	if b == nil {
		return nil
	}
	burst := float64(l.limits.LoginFailureBurst)
	b.tokens = min(burst, b.tokens+float64(now.Sub(b.at))/float64(l.limits.LoginFailureInterval))
	b.at = now
	if b.tokens >= burst {
		delete(l.failures, ip)
		return nil
	}
	return b
}

// loginFailed spends one of ip's failures.
func (l *connLimiter) loginFailed(ip string) {
	if l.limits.LoginFailureBurst < 0 {
		return
	}
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucket(ip, now)
	if b == nil {
		b = &loginBucket{tokens: float64(l.limits.LoginFailureBurst), at: now}
		l.failures[ip] = b
	}
	b.tokens = max(b.tokens-1, -1)
}

// blocked refuses, with MySQL's 1129, a client address that has used
// its failures up.
func (l *connLimiter) blocked(ip string) error {
	if l.limits.LoginFailureBurst < 0 {
		return nil
	}
	l.mu.Lock()
	b := l.bucket(ip, time.Now())
	l.mu.Unlock()
	if b == nil || b.tokens >= 1 {
		return nil
	}
	return sqlerror.New(sqlerror.User, mysql.ER_HOST_IS_BLOCKED,
		"Host '%s' is blocked because of many connection errors; it may try again once its failed logins age out (one per %s)", ip, l.limits.LoginFailureInterval)
}

// hostOf is the IP part of a client address.
func hostOf(a net.Addr) string {
	if t, ok := a.(*net.TCPAddr); ok {
		return t.IP.String()
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}

// refuseConn answers a client that will not get a handshake with one
// error packet (sequence 0, as MySQL sends 1040), then closes it.
func refuseConn(nc net.Conn, err error) {
	pkt := wire.AppendPackets(nil, wire.AppendERR(nil, sqlerror.ToMyError(err)), 0)
	_ = nc.SetWriteDeadline(time.Now().Add(time.Second))
	_, _ = nc.Write(pkt)
	_ = nc.Close()
}

// errTooManyConnections is MySQL's answer past max_connections.
func errTooManyConnections() error {
	return sqlerror.New(sqlerror.Unavailable, mysql.ER_CON_COUNT_ERROR, "Too many connections")
}

// preAuthConn is the client connection under go-mysql until the login
// succeeds: it reads the packet headers as they pass and fails the read
// of one that announces more than PreAuthMaxPacket, before go-mysql
// allocates what the header claims. After an SSL request the bytes are
// TLS records it cannot read; the handshake timeout still bounds them.
// Used from the connection's goroutine only.
type preAuthConn struct {
	net.Conn
	hdr     [4]byte
	hdrLen  int // header bytes seen of the current packet
	body    int // body bytes of the current packet still to come
	packets int
	off     bool // logged in, or TLS: reads pass through
	// user is the login counted against MaxUserConnections (set by the
	// auth handler), given back when the connection ends.
	user *string
	// pending is the checked first packet's rest, not yet read.
	pending []byte
	tls     bool // the server offers TLS
	refused bool
	// The login's authentication (auth.go): the greeting's salt, the
	// server's writes so far, and the connection's connAuth; switchSalt
	// is the salt of go-mysql's own auth switch, read when plain.
	salt       []byte
	switchSalt []byte
	writes     int
	auth       *connAuth
}

func (c *preAuthConn) Read(p []byte) (int, error) {
	if c.refused {
		return 0, errPreAuthPacketTooLarge
	}
	if len(c.pending) > 0 {
		n := copy(p, c.pending)
		c.pending = c.pending[n:]
		return n, nil
	}
	if c.packets == 0 && !c.off {
		return c.readFirst(p)
	}
	n, err := c.Conn.Read(p)
	if c.off {
		return n, err
	}
	for i := 0; i < n; {
		if c.body > 0 {
			k := min(c.body, n-i)
			c.body -= k
			i += k
			continue
		}
		c.hdr[c.hdrLen] = p[i]
		c.hdrLen++
		i++
		if c.hdrLen < 4 {
			continue
		}
		c.hdrLen = 0
		c.packets++
		c.body = int(c.hdr[0]) | int(c.hdr[1])<<8 | int(c.hdr[2])<<16
		if c.body > PreAuthMaxPacket {
			c.refused = true
			return 0, errPreAuthPacketTooLarge
		}
	}
	return n, err
}

// readFirst reads the client's first packet whole and hands it on only
// if go-mysql can decode it without running off its end
// (wire.WellFormedHandshakeResponse); an SSL request is followed by TLS.
func (c *preAuthConn) readFirst(p []byte) (int, error) {
	if _, err := io.ReadFull(c.Conn, c.hdr[:]); err != nil {
		return 0, err
	}
	c.packets = 1
	size := int(c.hdr[0]) | int(c.hdr[1])<<8 | int(c.hdr[2])<<16
	if size > PreAuthMaxPacket {
		c.refused = true
		return 0, errPreAuthPacketTooLarge
	}
	pkt := make([]byte, 4+size)
	copy(pkt, c.hdr[:])
	if _, err := io.ReadFull(c.Conn, pkt[4:]); err != nil {
		return 0, err
	}
	if !wire.WellFormedHandshakeResponse(pkt[4:]) {
		c.refused = true
		return 0, errPreAuthPacketTooLarge
	}
	if c.tls && c.sslRequest() {
		c.off = true // what follows are TLS records
	}
	n := copy(p, pkt)
	c.pending = pkt[n:]
	return n, nil
}

// sslRequest reports whether the first packet was an SSL request: the
// 32 fixed bytes of a handshake response and nothing else (a real
// response has at least the user name's terminator after them).
func (c *preAuthConn) sslRequest() bool {
	n := int(c.hdr[0]) | int(c.hdr[1])<<8 | int(c.hdr[2])<<16
	return n == 32
}

// errPreAuthPacketTooLarge fails go-mysql's read of a packet over
// PreAuthMaxPacket, or of a malformed handshake response; the client is
// disconnected, as MySQL does with a packet over its limit.
var errPreAuthPacketTooLarge = sqlerror.NewSentinel(sqlerror.User, mysql.ER_HANDSHAKE_ERROR, "gateway: packet before login larger than 64 KiB, or malformed")
