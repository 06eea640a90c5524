package gateway

import (
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/shardgate/shardgate/engine"
	"github.com/shardgate/shardgate/sqlerror"
	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/topo"
)

// BackendConfig says how the gateway logs in to the MySQL instances.
type BackendConfig struct {
	User     string
	Password string
	// PoolSize bounds the connections to each tablet.
	PoolSize int
	// IdleTimeout closes pooled connections left unused this long.
	IdleTimeout time.Duration
	// PoolWaitTimeout bounds a statement's wait for a free connection
	// when PoolSize are in use (limits.go): 0 means
	// DefaultPoolWaitTimeout, < 0 waits as long as the statement may run.
	PoolWaitTimeout time.Duration
	// PreparedStatements bounds the server-side prepared statements each
	// shard connection keeps for clients' prepared SELECTs
	// (prepare_shard.go): 0 means tablet.DefaultPreparedStatements; < 0
	// runs them on the shards as text instead.
	PreparedStatements int
	// TrustReturnedFor: a pooled connection given back less than this
	// long ago is handed out again without checking that the server
	// still has it open (stale_retry.go): 0 means the default,
	// 10 ms; < 0 always checks.
	TrustReturnedFor time.Duration
}

// shardKey names one shard of one keyspace.
type shardKey struct{ keyspace, shard string }

// routing is an immutable view of the topology, rebuilt on every change and
// swapped in atomically, so the query path reads it without locks.
type routing struct {
	snap *topo.Snapshot
	// shards lists each keyspace's serving shards per tablet type, in key order.
	shards map[topo.TabletType]map[string][]engine.ShardRange
	// tablets maps a shard and type to the pools of the tablets serving it.
	tablets map[topo.TabletType]map[shardKey][]*tablet.Pool
	// replicas lists each shard's replicas, for replica_select.go.
	replicas map[shardKey][]replicaTablet
	// reads holds, by keyspace, the read switch of a resharding: the
	// second shard set some sessions read from (read_switch.go).
	reads map[string]*readSwitch
	// counters are each routed tablet's shard query metrics, by pool,
	// resolved when the snapshot is built so that the query path never
	// looks up label values (nil entries when the gateway has none).
	counters map[*tablet.Pool]*tabletCounters
}

// tabletCounters are one tablet's shard query metrics.
type tabletCounters struct {
	queries prometheus.Counter
	took    prometheus.Observer
}

// topology keeps the latest routing and one connection pool per tablet.
// update is called by the topo watch goroutine that Server owns; readers
// call current() from any goroutine.
type topology struct {
	backend BackendConfig
	// cell is the gateway's cell: replica reads prefer it (replica_select.go).
	cell   string
	logger *slog.Logger

	current atomic.Pointer[routing]
	// metrics, when set, gives each routed tablet its counters.
	metrics *metrics
	// health is the latest tablet health (replica_health.go); nil until
	// the first records arrive.
	health atomic.Pointer[healthView]

	mu    sync.Mutex
	pools map[string]*tabletPool // by tablet alias
}

type tabletPool struct {
	addr string
	db   string
	pool *tablet.Pool
	// primary: the routing writes to this tablet (the shard names it).
	primary bool
}

func newTopology(backend BackendConfig, cell string, logger *slog.Logger) *topology {
	t := &topology{backend: backend, cell: cell, logger: logger, pools: map[string]*tabletPool{}}
	t.current.Store(&routing{})
	return t
}

// update installs a new snapshot: pools are opened for new tablets and
// closed for tablets that left or moved. The pool of a tablet that stops
// being its shard's primary (drained by a failover, or a replica) is
// severed, in-transaction connections included, and replaced: a commit
// still waiting there, on a primary frozen and resumed after a replica
// was promoted without that commit, fails instead of being answered OK.
func (t *topology) update(snap *topo.Snapshot) {
	t.mu.Lock()
	defer t.mu.Unlock()

	seen := map[string]bool{}
	r := &routing{
		snap:     snap,
		shards:   map[topo.TabletType]map[string][]engine.ShardRange{},
		tablets:  map[topo.TabletType]map[shardKey][]*tablet.Pool{},
		replicas: map[shardKey][]replicaTablet{},
		counters: map[*tablet.Pool]*tabletCounters{},
	}
	for _, tb := range snap.Tablets {
		alias := tb.Alias.String()
		addr := fmt.Sprintf("%s:%d", tb.Host, tb.Port)
		typ := tb.Type
		// The shard record names the primary; a tablet that claims to be
		// primary but is not named there is not written to.
		primary := typ == topo.TabletPrimary && isNamedPrimary(snap, tb)
		p := t.pools[alias]
		if p != nil && p.primary && !primary {
			t.logger.Warn("gateway: tablet is no longer its shard's primary; cutting its connections", "tablet", alias, "addr", p.addr)
			p.pool.Sever()
			p = nil
		}
		if p == nil || p.addr != addr || p.db != tb.Keyspace {
			if p != nil {
				p.pool.Close()
			}
			p = &tabletPool{addr: addr, db: tb.Keyspace, pool: tablet.NewPool(tablet.PoolConfig{
				Conn: tablet.ConnConfig{Addr: addr, User: t.backend.User, Password: t.backend.Password, DB: tb.Keyspace,
					PreparedStatements: max(t.backend.PreparedStatements, 0)},
				Size:        t.backend.PoolSize,
				IdleTimeout: t.backend.IdleTimeout,
				WaitTimeout: max(t.backend.PoolWaitTimeout, 0),
				// The gateway's reads retry a stale one (stale_retry.go).
				TrustReturnedFor: t.backend.trustReturnedFor(),
				Logger:           t.logger,
			})}
			t.pools[alias] = p
		}
		seen[alias] = true
		p.primary = primary
		if typ == topo.TabletPrimary && !primary {
			continue
		}
		if r.tablets[typ] == nil {
			r.tablets[typ] = map[shardKey][]*tablet.Pool{}
		}
		k := shardKey{tb.Keyspace, tb.Shard}
		r.tablets[typ][k] = append(r.tablets[typ][k], p.pool)
		if m := t.metrics; m != nil {
			r.counters[p.pool] = &tabletCounters{
				queries: m.shardQueries.WithLabelValues(tb.Keyspace, tb.Shard, alias, string(typ)),
				took:    m.shardQueryDuration.WithLabelValues(tb.Keyspace, tb.Shard),
			}
		}
		if typ == topo.TabletReplica {
			r.replicas[k] = append(r.replicas[k], replicaTablet{alias: tb.Alias, pool: p.pool, local: tb.Alias.Cell == t.cell})
		}
	}
	for alias, p := range t.pools {
		if !seen[alias] {
			if p.primary {
				p.pool.Sever()
			} else {
				p.pool.Close()
			}
			delete(t.pools, alias)
		}
	}
	for ks, srv := range snap.Srv {
		shardsByName := map[string]*topo.Shard{}
		for _, s := range snap.Shards[ks] {
			shardsByName[s.Name] = s
		}
		for typ, names := range srv.Partitions {
			if r.shards[typ] == nil {
				r.shards[typ] = map[string][]engine.ShardRange{}
			}
			ranges := make([]engine.ShardRange, 0, len(names))
			for _, name := range names {
				if s := shardsByName[name]; s != nil {
					ranges = append(ranges, engine.ShardRange{Name: name, KeyRange: s.KeyRange})
				}
			}
			r.shards[typ][ks] = ranges
		}
		if rs := newReadSwitch(srv, shardsByName, r.tablets); rs != nil {
			if r.reads == nil {
				r.reads = map[string]*readSwitch{}
			}
			r.reads[ks] = rs
		} else if srv.ReadSwitch != nil {
			t.logger.Warn("gateway: read switch names shards the topology doesn't have; reading from the serving shards", "keyspace", ks, "shards", srv.ReadSwitch.Shards)
		}
	}
	t.current.Store(r)
}

// countSince records one shard query started at start (c may be nil:
// no metrics, or a pool the snapshot does not route to).
func (c *tabletCounters) countSince(start time.Time) {
	if c != nil {
		c.queries.Inc()
		c.took.Observe(time.Since(start).Seconds())
	}
}

// poolsByAlias returns the gateway's pools by tablet alias.
func (t *topology) poolsByAlias() map[string]*tablet.Pool {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[string]*tablet.Pool, len(t.pools))
	for alias, p := range t.pools {
		out[alias] = p.pool
	}
	return out
}

func isNamedPrimary(snap *topo.Snapshot, tb *topo.Tablet) bool {
	for _, s := range snap.Shards[tb.Keyspace] {
		if s.Name == tb.Shard {
			return s.PrimaryAlias != nil && *s.PrimaryAlias == tb.Alias
		}
	}
	return false
}

// close closes every pool; the topology is not used afterwards.
func (t *topology) close() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for alias, p := range t.pools {
		p.pool.Close()
		delete(t.pools, alias)
	}
}

// shardRanges lists the shards a statement on keyspace reaches for
// tablet type typ. readDraw is the session's read-switch draw when the
// statement may read from a read switch's shards (a read outside
// transactions), or noReadSwitch: the draw picks the side.
func (r *routing) shardRanges(keyspace string, typ topo.TabletType, readDraw int) ([]engine.ShardRange, error) {
	if r.snap == nil || r.snap.Keyspaces[keyspace] == nil {
		return nil, sqlerror.New(sqlerror.User, mysql.ER_BAD_DB_ERROR, "Unknown database '%s'", keyspace)
	}
	if rs := r.reads[keyspace]; rs != nil && rs.takes(typ, readDraw) {
		return rs.shards, nil
	}
	ranges := r.shards[typ][keyspace]
	if len(ranges) == 0 {
		return nil, sqlerror.New(sqlerror.Unavailable, mysql.ER_UNKNOWN_ERROR, "no serving shards for keyspace %s (%s)", keyspace, typ)
	}
	return ranges, nil
}

// pool picks the pool of a tablet serving the shard; replicas are chosen
// round-robin by the caller's counter.
func (r *routing) pool(keyspace, shard string, typ topo.TabletType, pick uint32) (*tablet.Pool, error) {
	pools := r.tablets[typ][shardKey{keyspace, shard}]
	if len(pools) == 0 {
		return nil, sqlerror.New(sqlerror.Unavailable, mysql.ER_UNKNOWN_ERROR, "no %s tablet serving %s/%s", typ, keyspace, shard)
	}
	return pools[int(pick)%len(pools)], nil
}
