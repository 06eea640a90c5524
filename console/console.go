package console

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"sort"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/shardgate/shardgate/failover"
	"github.com/shardgate/shardgate/gateway"
	"github.com/shardgate/shardgate/querystats"
	"github.com/shardgate/shardgate/topo"
	"github.com/shardgate/shardgate/twopc"
)

//go:embed static
var static embed.FS

// Config configures a status port.
type Config struct {
	// Gateway is the gateway the port reports on.
	Gateway *gateway.Server
	// Store is the topology store (workflows, recoveries); nil leaves
	// those panels empty.
	Store *topo.Store
	// GatewayDSN is a go-sql-driver DSN of the gateway (user, password,
	// address, no database) for the VEXPLAIN box; empty turns it off.
	GatewayDSN string
	// Pprof serves /debug/pprof/. Off by default: its cmdline page shows
	// the process's arguments, passwords given as flags included.
	Pprof  bool
	Logger *slog.Logger
}

// Console is a status port's handler.
type Console struct {
	cfg Config
	mux *http.ServeMux
	db  *sql.DB // the VEXPLAIN box's connections to the gateway
}

// New builds the handler; Close releases its gateway connections.
func New(cfg Config) (*Console, error) {
	if cfg.Gateway == nil {
		return nil, errors.New("console: Config.Gateway is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Console{cfg: cfg, mux: http.NewServeMux()}
	if err := cfg.Gateway.RegisterMetrics(&recoveriesCollector{store: cfg.Store}, &workflowsCollector{store: cfg.Store}); err != nil {
		return nil, err
	}
	if cfg.GatewayDSN != "" {
		db, err := sql.Open("mysql", cfg.GatewayDSN)
		if err != nil {
			return nil, err
		}
		db.SetMaxOpenConns(2)
		db.SetMaxIdleConns(0) // each VEXPLAIN sets its keyspace on a fresh session
		c.db = db
	}
	page, err := fs.Sub(static, "static")
	if err != nil {
		return nil, err
	}
	c.mux.Handle("GET /metrics", promhttp.HandlerFor(cfg.Gateway.Gatherer(), promhttp.HandlerOpts{}))
	c.mux.Handle("GET /", http.FileServerFS(page))
	c.mux.HandleFunc("GET /api/status", c.api(c.status))
	c.mux.HandleFunc("GET /api/keyspaces", c.api(func(ctx context.Context, r *http.Request) (any, error) { return c.keyspaces(), nil }))
	c.mux.HandleFunc("GET /api/tablets", c.api(func(ctx context.Context, r *http.Request) (any, error) { return c.cfg.Gateway.Tablets(), nil }))
	c.mux.HandleFunc("GET /api/recoveries", c.api(func(ctx context.Context, r *http.Request) (any, error) { return c.recoveries(ctx) }))
	c.mux.HandleFunc("GET /api/workflows", c.api(func(ctx context.Context, r *http.Request) (any, error) { return c.workflows(ctx) }))
	c.mux.HandleFunc("GET /api/twopc", c.api(func(ctx context.Context, r *http.Request) (any, error) { return c.twopc(ctx) }))
	c.mux.HandleFunc("GET /api/queries", c.api(func(ctx context.Context, r *http.Request) (any, error) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		return c.queries(n), nil
	}))
	c.mux.HandleFunc("GET /api/vexplain", c.api(c.vexplain))
	c.mux.HandleFunc("POST /api/vexplain", c.api(c.vexplain))
	if cfg.Pprof {
		c.mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		c.mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
		c.mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		c.mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
		c.mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	}
	return c, nil
}

// ServeHTTP implements http.Handler.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) { c.mux.ServeHTTP(w, r) }

// Close closes the VEXPLAIN box's connections.
func (c *Console) Close() error {
	if c.db != nil {
		return c.db.Close()
	}
	return nil
}

// apiError is a JSON API error with its HTTP status.
type apiError struct {
	status int
	msg    string
}

func (e *apiError) Error() string { return e.msg }

// api serves fn's value as JSON; a failure is {"error": "..."}.
func (c *Console) api(fn func(context.Context, *http.Request) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
		defer cancel()
		v, err := fn(ctx, r)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		if err != nil {
			status := http.StatusInternalServerError
			var ae *apiError
			if errors.As(err, &ae) {
				status = ae.status
			}
			w.WriteHeader(status)
			v = map[string]string{"error": err.Error()}
		}
		if err := json.NewEncoder(w).Encode(v); err != nil {
			c.cfg.Logger.Debug("console: write response", "err", err)
		}
	}
}

// Status is everything the console shows, in one poll.
type Status struct {
	Time       time.Time            `json:"time"`
	Keyspaces  []Keyspace           `json:"keyspaces"`
	Tablets    []gateway.TabletView `json:"tablets"`
	Recoveries []*failover.Recovery `json:"recoveries"`
	Workflows  []*topo.Workflow     `json:"workflows"`
	TwoPC      []*twopc.Record      `json:"twopc"`
	Queries    []Query              `json:"queries"`
	Errors     map[string]string    `json:"errors,omitempty"`
}

func (c *Console) status(ctx context.Context, r *http.Request) (any, error) {
	st := &Status{Time: time.Now().UTC(), Keyspaces: c.keyspaces(), Tablets: c.cfg.Gateway.Tablets(), Queries: c.queries(50)}
	var err error
	note := func(panel string, err error) {
		if err != nil {
			if st.Errors == nil {
				st.Errors = map[string]string{}
			}
			st.Errors[panel] = err.Error()
		}
	}
	st.Recoveries, err = c.recoveries(ctx)
	note("recoveries", err)
	st.Workflows, err = c.workflows(ctx)
	note("workflows", err)
	st.TwoPC, err = c.twopc(ctx)
	note("twopc", err)
	return st, nil
}

// Keyspace is a keyspace with its shards' serving state.
type Keyspace struct {
	Name    string  `json:"name"`
	Sharded bool    `json:"sharded"`
	Shards  []Shard `json:"shards"`
}

// Shard is one shard: whether the serving graph routes primary traffic
// to it, and its primary's alias.
type Shard struct {
	Name    string `json:"name"`
	Serving bool   `json:"serving"`
	Primary string `json:"primary"`
}

func (c *Console) keyspaces() []Keyspace {
	snap := c.cfg.Gateway.Snapshot()
	if snap == nil {
		return []Keyspace{}
	}
	out := make([]Keyspace, 0, len(snap.Keyspaces))
	for name, ks := range snap.Keyspaces {
		k := Keyspace{Name: name, Sharded: ks.Sharded, Shards: []Shard{}}
		serving := map[string]bool{}
		if srv := snap.Srv[name]; srv != nil {
			for _, s := range srv.Partitions[topo.TabletPrimary] {
				serving[s] = true
			}
		}
		for _, sh := range snap.Shards[name] {
			s := Shard{Name: sh.Name, Serving: serving[sh.Name]}
			if sh.PrimaryAlias != nil {
				s.Primary = sh.PrimaryAlias.String()
			}
			k.Shards = append(k.Shards, s)
		}
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (c *Console) recoveries(ctx context.Context) ([]*failover.Recovery, error) {
	if c.cfg.Store == nil {
		return []*failover.Recovery{}, nil
	}
	recs, err := failover.ListRecoveries(ctx, c.cfg.Store)
	if err != nil {
		return []*failover.Recovery{}, err
	}
	// Newest first, as an operator reads a history.
	for i, j := 0, len(recs)-1; i < j; i, j = i+1, j-1 {
		recs[i], recs[j] = recs[j], recs[i]
	}
	return recs, nil
}

func (c *Console) workflows(ctx context.Context) ([]*topo.Workflow, error) {
	if c.cfg.Store == nil {
		return []*topo.Workflow{}, nil
	}
	wfs, err := c.cfg.Store.ListWorkflows(ctx)
	if wfs == nil {
		wfs = []*topo.Workflow{}
	}
	return wfs, err
}

func (c *Console) twopc(ctx context.Context) ([]*twopc.Record, error) {
	recs, err := c.cfg.Gateway.UnresolvedTransactions(ctx)
	if recs == nil {
		recs = []*twopc.Record{}
	}
	return recs, err
}

// Query is a digest as the console shows it (latencies in milliseconds).
type Query struct {
	querystats.Stats
	TotalMS float64 `json:"total_ms"`
	P50MS   float64 `json:"p50_ms"`
	P99MS   float64 `json:"p99_ms"`
}

func (c *Console) queries(n int) []Query {
	stats := c.cfg.Gateway.QueryStats(n)
	out := make([]Query, len(stats))
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	for i, s := range stats {
		out[i] = Query{Stats: s, TotalMS: ms(s.Total), P50MS: ms(s.P50), P99MS: ms(s.P99)}
	}
	return out
}
