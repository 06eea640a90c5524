package gateway

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/server"

	"github.com/shardgate/shardgate/querystats"
	"github.com/shardgate/shardgate/topo"
	"github.com/shardgate/shardgate/topo/vschema"
	"github.com/shardgate/shardgate/twopc"
	"github.com/shardgate/shardgate/wire"
)

// TopoStore is what the gateway needs of the topology service.
type TopoStore interface {
	// WatchSnapshots calls fn with the current topology and again after
	// every change, until ctx is done.
	WatchSnapshots(ctx context.Context, fn func(*topo.Snapshot)) error
	// UpdateVSchema atomically changes one keyspace's vschema.
	UpdateVSchema(ctx context.Context, keyspace string, update func(*vschema.Keyspace) error) error
}

// Config configures a gateway.
type Config struct {
	// ListenAddr is the MySQL protocol address, e.g. "127.0.0.1:15306".
	ListenAddr string
	Topo       TopoStore
	Backend    BackendConfig
	// Users maps bootstrap user names to passwords, checked with
	// AuthMethod; they have every privilege. The users defined with
	// `shardctl user` come from Topo when it is a UserWatcher
	// (topo.Store is). With neither Users nor NoDefaultUser, "root"
	// without a password is the bootstrap user (tests, `shardgate up`).
	Users map[string]string
	// NoDefaultUser: no passwordless root when Users is empty; only the
	// stored users may log in (`shardgate serve` without --user).
	NoDefaultUser bool
	// InsecureNoAuth lets anyone log in, with any name and password, with
	// every privilege (`serve --insecure-no-auth`).
	InsecureNoAuth bool
	// AdminUsers may run the statements refused to everyone else toward
	// the shards (SHUTDOWN, user management, INTO OUTFILE, SET GLOBAL,
	// ...: restricted.go). None by default.
	AdminUsers []string
	// AuthMethod is how passwords are checked: mysql_native_password (the
	// default) or caching_sha2_password. A client that starts with the
	// other one is asked to switch.
	AuthMethod string
	// TLSConfig, when set, lets clients upgrade to TLS in the handshake;
	// with RequireTLS, a client that does not is refused (error 3159).
	TLSConfig  *tls.Config
	RequireTLS bool
	// ServerVersion is the version string sent in the handshake.
	ServerVersion string
	// DefaultVindexType is used for tables that CREATE TABLE adds to a
	// sharded keyspace's vschema ("hash" when empty).
	DefaultVindexType string
	// Cell is the cell the gateway runs in: replica reads prefer it.
	Cell string
	// ReplicaLagLimit: a replica further behind its primary than this
	// serves no reads (replica_select.go); 0 means DefaultReplicaLagLimit.
	ReplicaLagLimit time.Duration
	// PlanCacheEntries and PlanCacheBytes bound the plan cache shared by
	// all sessions (defaults 5000 plans, 32 MiB estimated);
	// PlanCacheEntries < 0 turns the cache off.
	PlanCacheEntries int
	PlanCacheBytes   int64
	// MaxBufferedRows bounds the rows one statement may hold in the
	// gateway's memory (results that are not streamed: an aggregate's
	// inputs, a merge executed whole); more is error 1041 instead of an
	// out-of-memory. 0 means DefaultMaxBufferedRows.
	MaxBufferedRows int
	// MaxAllowedPacket bounds a statement's size (COM_QUERY text, or a
	// prepared statement's values): more is error 1153 before parsing.
	// 0 means DefaultMaxAllowedPacket.
	MaxAllowedPacket int
	// QueryTimeout bounds every statement's run time (0: no bound); a
	// session's max_statement_time / max_execution_time can only lower it.
	// A statement past it is killed on its shards and answers 1969.
	QueryTimeout time.Duration
	// Limits bound connections, logins and waits (limits.go).
	Limits Limits
	// Hooks, when set, observe every statement (statement.go).
	Hooks StatementHooks
	// DisableMetrics turns off the Prometheus metrics and the query
	// digests (SHOW QUERY STATS), e.g. to measure what they cost.
	DisableMetrics bool
	// MaxQueryDigests bounds the query digest table
	// (querystats.DefaultMaxDigests when 0).
	MaxQueryDigests int
	// QueryLog, when set, receives the statements it wants (slow,
	// failing, sampled) as JSON lines.
	QueryLog *querystats.Log
	// TopoWait bounds how long Start waits for the first topology snapshot.
	TopoWait time.Duration
	Logger   *slog.Logger

	// Transactions (see transaction.go, txmode.go, twopc.go).
	TwoPC TwoPCConfig

	// Buffering (buffer.go): how long a statement for a shard with no
	// serving primary is held (default DefaultBufferWindow), and how many
	// statements the gateway holds at most (DefaultBufferMaxStatements).
	BufferWindow        time.Duration
	BufferMaxStatements int
	// SchemaTrackInterval is how often the elected schema tracker
	// re-reads the sharded keyspaces' columns (schema_tracking.go;
	// schema.DefaultInterval when 0, never when < 0: then only DDL
	// through a gateway refreshes them).
	SchemaTrackInterval time.Duration
	// GatewayID names the gateway in etcd (its presence key, its hold
	// acknowledgements); default host, pid and a random part.
	GatewayID string
}

// Server is a running gateway. It owns: the accept goroutine, one goroutine
// per client connection, and the topology watch goroutine; Close stops
// all of them and waits.
type Server struct {
	cfg    Config
	logger *slog.Logger
	topo   *topology
	plans  *planCache
	mysql  *server.Server
	auth   *authHandler
	ln     net.Listener

	// done is handed to go-mysql as the response of every command whose
	// packets the session wrote itself: a Resultset it will not write.
	done *mysql.Result

	sequences sequences
	// prepared caches the columns COM_STMT_PREPARE announces (prepare_cache.go).
	prepared prepareCache

	// metrics (nil when disabled) and the query digests they feed
	// (metrics.go, observe.go).
	metrics *metrics
	digests *querystats.Table

	// replicaPick spreads replica reads over a shard's replicas.
	replicaPick atomic.Uint32

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	// limiter counts logins per user and failed logins per address.
	limiter *connLimiter

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	// sessions are the client sessions by connection id (KILL).
	sessions map[uint32]*session

	// txMode is the sessions' default transaction_mode; coord runs their
	// two-phase commits (nil when the topology offers no etcd client).
	txMode txMode
	coord  *twopc.Coordinator

	// buffer holds statements for shards with no serving primary;
	// leavePresence removes the gateway's presence key (buffer_holds.go).
	buffer        *buffer
	leavePresence func(context.Context) error
}

// New checks the config and prepares a server; Start listens.
func New(cfg Config) (*Server, error) {
	if cfg.Topo == nil {
		return nil, errors.New("gateway: Config.Topo is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.ServerVersion == "" {
		cfg.ServerVersion = "10.11.0-MariaDB-shardgate"
	}
	if cfg.DefaultVindexType == "" {
		cfg.DefaultVindexType = "hash"
	}
	if cfg.Backend.User == "" {
		cfg.Backend.User = "root"
	}
	if cfg.Backend.PoolSize <= 0 {
		cfg.Backend.PoolSize = 64
	}
	mode, err := parseTxMode(cmp.Or(cfg.TwoPC.TransactionMode, "twopc"))
	if err != nil {
		return nil, fmt.Errorf("gateway: Config.TwoPC.TransactionMode: %w", err)
	}
	if cfg.TopoWait <= 0 {
		cfg.TopoWait = 10 * time.Second
	}
	if len(cfg.Users) == 0 && !cfg.NoDefaultUser && !cfg.InsecureNoAuth {
		cfg.Users = map[string]string{"root": ""}
	}
	if cfg.GatewayID == "" {
		cfg.GatewayID = defaultGatewayID()
	}
	if cfg.AuthMethod == "" {
		cfg.AuthMethod = mysql.AUTH_NATIVE_PASSWORD
	}
	if cfg.AuthMethod != mysql.AUTH_NATIVE_PASSWORD && cfg.AuthMethod != mysql.AUTH_CACHING_SHA2_PASSWORD {
		return nil, fmt.Errorf("gateway: unsupported auth method %q", cfg.AuthMethod)
	}
	if cfg.RequireTLS && cfg.TLSConfig == nil {
		return nil, errors.New("gateway: RequireTLS needs a TLSConfig")
	}
	cfg.Limits = cfg.Limits.withDefaults()
	if cfg.Backend.PoolWaitTimeout == 0 {
		cfg.Backend.PoolWaitTimeout = DefaultPoolWaitTimeout
	}
	auth, err := newAuthHandler(cfg)
	if err != nil {
		return nil, err
	}
	limiter := newConnLimiter(cfg.Limits)
	auth.limiter = limiter
	my, err := newMySQLServer(cfg, auth)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:     cfg,
		logger:  cfg.Logger,
		topo:    newTopology(cfg.Backend, cfg.Cell, cfg.Logger),
		plans:   newPlanCache(cfg.PlanCacheEntries, cfg.PlanCacheBytes),
		mysql:   my,
		auth:    auth,
		limiter: limiter,
		done: &mysql.Result{Resultset: &mysql.Resultset{
			Fields:        []*mysql.Field{{}},
			Streaming:     mysql.StreamingMultiple,
			StreamingDone: true,
		}},
		conns:    map[net.Conn]struct{}{},
		sessions: map[uint32]*session{},
		txMode:   mode,
		digests:  querystats.NewTable(cfg.MaxQueryDigests),
		buffer:   newBuffer(cfg.BufferWindow, cfg.BufferMaxStatements),
	}
	if !cfg.DisableMetrics {
		s.metrics = newMetrics()
		s.metrics.registerServer(s)
		s.topo.metrics = s.metrics
	}
	return s, nil
}

// Start begins watching the topology, waits for the first snapshot, and
// starts accepting connections.
func (s *Server) Start(ctx context.Context) error {
	s.ctx, s.cancel = context.WithCancel(context.Background())
	first := make(chan struct{})
	var once sync.Once
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		err := s.cfg.Topo.WatchSnapshots(s.ctx, func(snap *topo.Snapshot) {
			s.topo.update(snap)
			s.buffer.routed(snap.Revision)
			once.Do(func() { close(first) })
		})
		if err != nil && s.ctx.Err() == nil {
			s.logger.Error("topology watch stopped", "err", err)
		}
	}()
	wait, cancelWait := context.WithTimeout(ctx, s.cfg.TopoWait)
	defer cancelWait()
	select {
	case <-first:
	case <-wait.Done():
		s.Close()
		return fmt.Errorf("gateway: no topology snapshot within %s: %w", s.cfg.TopoWait, wait.Err())
	}

	if err := s.startUsersWatch(ctx); err != nil {
		s.Close()
		return err
	}
	s.startHealthWatch()
	if err := s.startTwoPC(ctx); err != nil {
		s.Close()
		return err
	}
	if err := s.startHolds(ctx); err != nil {
		s.Close()
		return err
	}
	s.startSchemaTracker()
	ln, err := net.Listen("tcp", s.cfg.ListenAddr)
	if err != nil {
		s.Close()
		return fmt.Errorf("gateway: listen: %w", err)
	}
	s.ln = ln
	s.wg.Add(1)
	go s.accept()
	return nil
}

// Addr is the address the gateway listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

func (s *Server) accept() {
	defer s.wg.Done()
	var delay time.Duration
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			if s.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors, say: the listener is fine and
			// connections will be accepted again once some close. Wait
			// and retry, backing off as net/http does, instead of
			// serving nobody from then on.
			delay = acceptRetryDelay(delay)
			s.logger.Error("accept failed; retrying", "err", err, "in", delay)
			select {
			case <-time.After(delay):
			case <-s.ctx.Done():
				return
			}
			continue
		}
		delay = 0
		if err := s.limiter.blocked(hostOf(nc.RemoteAddr())); err != nil {
			refuseConn(nc, err)
			continue
		}
		s.mu.Lock()
		if s.ctx.Err() != nil {
			s.mu.Unlock()
			nc.Close()
			return
		}
		if max := s.cfg.Limits.MaxConnections; max > 0 && len(s.conns) >= max {
			s.mu.Unlock()
			refuseConn(nc, errTooManyConnections())
			continue
		}
		s.conns[nc] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			defer func() {
				s.mu.Lock()
				delete(s.conns, nc)
				s.mu.Unlock()
			}()
			s.serveConn(nc)
		}()
	}
}

// acceptRetryDelay is the wait after a failed Accept: 5 ms, doubling up
// to a second while failures go on.
func acceptRetryDelay(last time.Duration) time.Duration {
	if last == 0 {
		return 5 * time.Millisecond
	}
	return min(2*last, time.Second)
}

func (s *Server) serveConn(nc net.Conn) {
	defer nc.Close()
	defer func() {
		// A bug must cost one connection, never the gateway.
		if r := recover(); r != nil {
			s.logger.Error("panic serving a connection; closing it", "remote", nc.RemoteAddr(), "panic", r, "stack", string(debug.Stack()))
		}
	}()
	// The login must end within the handshake timeout, and reads no
	// packet over PreAuthMaxPacket (limits.go).
	pre := &preAuthConn{Conn: nc, tls: s.cfg.TLSConfig != nil}
	if d := s.cfg.Limits.HandshakeTimeout; d > 0 {
		_ = nc.SetDeadline(time.Now().Add(d))
	}
	bc := wire.NewBufferedConn(pre)
	sess := newSession(s)
	defer sess.close()
	sess.pre = pre
	pre.auth = &connAuth{h: s.auth, sess: sess, pre: pre}
	c, err := s.mysql.NewCustomizedConn(bc, pre.auth, sess)
	defer func() {
		// pre.user is the login counted, changed by COM_CHANGE_USER.
		if pre.user != nil {
			s.limiter.removeUser(*pre.user)
		}
	}()
	if err != nil {
		s.logger.Debug("handshake failed", "remote", nc.RemoteAddr(), "err", err)
		return
	}
	pre.off = true
	_ = nc.SetDeadline(time.Time{})
	sess.attach(c)
	sess.clientAlive = clientAliveCheck(nc)
	sess.closeClient = func() { _ = nc.Close() }
	s.register(sess)
	defer s.unregister(sess)
	sess.flush = bc.Flush
	bc.Buffer()
	sess.fence.SetMaxLongData(s.cfg.MaxAllowedPacket)
	sess.fence.SetNetReadTimeout(max(s.cfg.Limits.NetReadTimeout, 0))
	c.Conn.Conn = sess.fence.ReadConn(c.Conn.Conn)
	for !c.Closed() {
		disarm := sess.armIdleTimeout(nc)
		err := sess.serveCommand(c) // c.HandleCommand, but executes first (prepare_execute.go)
		disarm()
		if ferr := bc.Flush(); err == nil {
			err = ferr
		}
		if err != nil || sess.closeAfterReply {
			return
		}
	}
}

func (s *Server) register(sess *session) {
	s.mu.Lock()
	s.sessions[sess.id] = sess
	s.mu.Unlock()
}

func (s *Server) unregister(sess *session) {
	s.mu.Lock()
	delete(s.sessions, sess.id)
	s.mu.Unlock()
}

// session finds a client session by connection id; nil if there is none.
func (s *Server) session(id uint32) *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions[id]
}

// Close stops accepting, closes every client connection (rolling back
// their transactions) and the tablet pools, and waits for all goroutines.
func (s *Server) Close() {
	if s.cancel != nil {
		s.cancel()
	}
	if s.ln != nil {
		s.ln.Close()
	}
	s.mu.Lock()
	for nc := range s.conns {
		nc.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	s.stopTwoPC()
	if s.leavePresence != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = s.leavePresence(ctx)
		cancel()
	}
	s.topo.close()
}
