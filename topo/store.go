package topo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap/zapcore"
)

// DefaultRoot is the key prefix of the topology in etcd.
const DefaultRoot = "/shardgate"

// Config says where the topology lives.
type Config struct {
	// Endpoints are etcd client URLs or host:port pairs.
	Endpoints []string
	// Root is the key prefix, default DefaultRoot. Several topologies can
	// share one etcd under different roots.
	Root string
	// DialTimeout bounds connecting to etcd, including the check Open
	// makes; default 5s.
	DialTimeout time.Duration
	// Logger receives watch retries and etcd client errors. Nil discards.
	Logger *slog.Logger
}

// Store reads and writes the topology in etcd. It is safe for concurrent
// use. Its etcd client owns goroutines that stop in Close.
type Store struct {
	cli  *clientv3.Client
	root string // no trailing '/'
	log  *slog.Logger
}

// Open connects to etcd and checks that it answers within DialTimeout.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if len(cfg.Endpoints) == 0 {
		return nil, fmt.Errorf("topo: no etcd endpoints: %w", ErrInvalid)
	}
	root := cfg.Root
	if root == "" {
		root = DefaultRoot
	}
	root = strings.TrimRight(root, "/")
	if !strings.HasPrefix(root, "/") || root == "" {
		return nil, fmt.Errorf("topo: root %q must start with '/' and name a prefix: %w", cfg.Root, ErrInvalid)
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = 5 * time.Second
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   cfg.Endpoints,
		DialTimeout: cfg.DialTimeout,
		Logger:      zapToSlog(log, zapcore.ErrorLevel, nil),
	})
	if err != nil {
		return nil, fmt.Errorf("topo: connect to etcd %v: %w", cfg.Endpoints, err)
	}
	cctx, cancel := context.WithTimeout(ctx, cfg.DialTimeout)
	defer cancel()
	if _, err := cli.Get(cctx, root+"/", clientv3.WithPrefix(), clientv3.WithCountOnly()); err != nil {
		cli.Close()
		return nil, fmt.Errorf("topo: etcd %v doesn't answer: %w", cfg.Endpoints, err)
	}
	return &Store{cli: cli, root: root, log: log}, nil
}

// Close closes the etcd client.
func (s *Store) Close() error {
	return s.cli.Close()
}

// Client returns the etcd client, for users of etcd features the Store
// doesn't wrap (leader election). It is closed by Close.
func (s *Store) Client() *clientv3.Client {
	return s.cli
}

// Root returns the key prefix of the topology, without a trailing '/'.
func (s *Store) Root() string {
	return s.root
}

// Keys. See the package comment for the layout.

func (s *Store) keyspacesDir() string         { return s.root + "/keyspaces/" }
func (s *Store) keyspaceKey(ks string) string { return s.keyspacesDir() + ks }
func (s *Store) shardsDir() string            { return s.root + "/shards/" }
func (s *Store) shardsPrefix(ks string) string {
	return s.shardsDir() + ks + "/"
}
func (s *Store) shardKey(ks, shard string) string { return s.shardsPrefix(ks) + shard }
func (s *Store) vschemasDir() string              { return s.root + "/vschemas/" }
func (s *Store) vschemaKey(ks string) string      { return s.vschemasDir() + ks }
func (s *Store) srvDir() string                   { return s.root + "/srvkeyspaces/" }
func (s *Store) srvKey(ks string) string          { return s.srvDir() + ks }
func (s *Store) tabletsDir() string               { return s.root + "/tablets/" }
func (s *Store) tabletKey(a TabletAlias) string   { return s.tabletsDir() + a.String() }
func (s *Store) locksDir() string                 { return s.root + "/locks/" }

// unchangedSince compares true while no key under prefix was written after
// rev. (Deleted keys are not seen; nothing under the prefixes it guards is
// ever deleted.)
func unchangedSince(prefix string, rev int64) clientv3.Cmp {
	return clientv3.Compare(clientv3.ModRevision(prefix), "<", rev+1).WithPrefix()
}

func absent(key string) clientv3.Cmp {
	return clientv3.Compare(clientv3.CreateRevision(key), "=", 0)
}

func present(key string) clientv3.Cmp {
	return clientv3.Compare(clientv3.CreateRevision(key), ">", 0)
}

// getRaw reads key; ErrNoNode if absent.
func (s *Store) getRaw(ctx context.Context, key, what string) (value []byte, modRev int64, err error) {
	resp, err := s.cli.Get(ctx, key)
	if err != nil {
		return nil, 0, fmt.Errorf("topo: get %s: %w", what, err)
	}
	if len(resp.Kvs) == 0 {
		return nil, 0, fmt.Errorf("%s: %w", what, ErrNoNode)
	}
	return resp.Kvs[0].Value, resp.Kvs[0].ModRevision, nil
}

// get reads key into v and returns its mod revision; ErrNoNode if absent.
func (s *Store) get(ctx context.Context, key, what string, v any) (int64, error) {
	data, rev, err := s.getRaw(ctx, key, what)
	if err != nil {
		return 0, err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return 0, fmt.Errorf("topo: decode %s: %w", what, err)
	}
	return rev, nil
}

// decodeAll decodes the values of kvs, in order.
func decodeAll[T any](kvs []*mvccpb.KeyValue, what string) ([]*T, error) {
	out := make([]*T, 0, len(kvs))
	for _, kv := range kvs {
		v := new(T)
		if err := json.Unmarshal(kv.Value, v); err != nil {
			return nil, fmt.Errorf("topo: decode %s %s: %w", what, kv.Key, err)
		}
		out = append(out, v)
	}
	return out, nil
}

// listJSON decodes every value under prefix, in key order.
func listJSON[T any](ctx context.Context, s *Store, prefix, what string) ([]*T, error) {
	resp, err := s.cli.Get(ctx, prefix, clientv3.WithPrefix())
	if err != nil {
		return nil, fmt.Errorf("topo: list %s: %w", what, err)
	}
	return decodeAll[T](resp.Kvs, what)
}

// maxAttempts bounds a read-modify-write loop that keeps losing races.
const maxAttempts = 100

// retry runs attempt until it reports done, backing off a little between
// attempts; after maxAttempts it returns an error wrapping ErrBadVersion.
func retry(ctx context.Context, what string, attempt func() (done bool, err error)) error {
	for i := range maxAttempts {
		done, err := attempt()
		if err != nil || done {
			return err
		}
		// Jittered, growing sleep: 1ms, then up to ~50ms.
		d := time.Duration(1+rand.IntN(min(i+1, 50))) * time.Millisecond
		select {
		case <-ctx.Done():
			return fmt.Errorf("topo: %s: %w", what, ctx.Err())
		case <-time.After(d):
		}
	}
	return fmt.Errorf("%s: %d attempts lost to concurrent writers: %w", what, maxAttempts, ErrBadVersion)
}

// updateJSON is the read-modify-write loop behind the Update methods: it
// reads key into a fresh T, calls fn, checks the result with check, and
// writes it if key hasn't changed since the read, else starts over.
func updateJSON[T any](ctx context.Context, s *Store, key, what string, fn func(*T) error, check func(old, new *T) error) error {
	return retry(ctx, "update "+what, func() (bool, error) {
		data, rev, err := s.getRaw(ctx, key, what)
		if err != nil {
			return false, err
		}
		var old, v T // v is the copy fn changes
		if err := errors.Join(json.Unmarshal(data, &old), json.Unmarshal(data, &v)); err != nil {
			return false, fmt.Errorf("topo: decode %s: %w", what, err)
		}
		if err := fn(&v); err != nil {
			if errors.Is(err, ErrNoUpdateNeeded) {
				return true, nil
			}
			return false, err
		}
		if err := check(&old, &v); err != nil {
			return false, err
		}
		data, err = json.Marshal(&v)
		if err != nil {
			return false, fmt.Errorf("topo: encode %s: %w", what, err)
		}
		resp, err := s.cli.Txn(ctx).
			If(clientv3.Compare(clientv3.ModRevision(key), "=", rev)).
			Then(clientv3.OpPut(key, string(data))).
			Commit()
		if err != nil {
			return false, fmt.Errorf("topo: update %s: %w", what, err)
		}
		return resp.Succeeded, nil
	})
}
