package twopc

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/shardgate/shardgate/sqlerror"
)

// State is a durable decision.
type State string

// Decisions. A prepared branch with no record is presumed aborted.
const (
	StateCommit   State = "commit"
	StateRollback State = "rollback"
)

// Participant is one shard of a distributed transaction.
type Participant struct {
	Keyspace string `json:"keyspace"`
	Shard    string `json:"shard"`
}

// Record is the decision of one distributed transaction, stored at
// <root>/twopc/tx/<dtid> from the decision until every branch is
// finished.
type Record struct {
	DTID         string        `json:"dtid"`
	State        State         `json:"state"`
	Participants []Participant `json:"participants"`
	// Decided is when the decision was made; By says who made it
	// ("coordinator" or "resolver" or "operator").
	Decided time.Time `json:"decided"`
	By      string    `json:"by"`
}

// ErrNoRecord: no decision record for the dtid (the resolver's and
// shardctl's concern, never a statement's: internal).
var ErrNoRecord = sqlerror.NewSentinel(sqlerror.Internal, mysql.ER_UNKNOWN_ERROR, "twopc: no decision record")

// records reads and writes decision records under root.
type records struct {
	cli  *clientv3.Client
	root string
}

func (r records) dir() string            { return r.root + "/twopc/tx/" }
func (r records) key(dtid string) string { return r.dir() + dtid }
func (r records) leaderPrefix() string   { return r.root + "/twopc/leader" }

// decide creates the record unless one exists, and returns the record
// that stands: rec, or the decision made first by someone else. rec's
// participants missing from a standing record are added to it: the
// record must outlive every branch of the transaction, and a decision
// made first by a resolver names only the shards it found branches on
// (a shard down at the time is missing; its branch would come back,
// after a failover, with no record and a coordinator still alive, which
// the resolver leaves alone forever).
func (r records) decide(ctx context.Context, rec *Record) (*Record, error) {
	data, err := json.Marshal(rec)
	if err != nil {
		return nil, err
	}
	key := r.key(rec.DTID)
	for {
		resp, err := r.cli.Txn(ctx).
			If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
			Then(clientv3.OpPut(key, string(data))).
			Else(clientv3.OpGet(key)).
			Commit()
		if err != nil {
			return nil, fmt.Errorf("twopc: record decision for %s: %w", rec.DTID, err)
		}
		if resp.Succeeded {
			return rec, nil
		}
		kvs := resp.Responses[0].GetResponseRange().Kvs
		if len(kvs) == 0 {
			continue // deleted in between: create ours
		}
		var other Record
		if err := json.Unmarshal(kvs[0].Value, &other); err != nil {
			return nil, fmt.Errorf("twopc: decision for %s: %w", rec.DTID, err)
		}
		missing := false
		for _, p := range rec.Participants {
			if !slices.Contains(other.Participants, p) {
				other.Participants = append(other.Participants, p)
				missing = true
			}
		}
		if !missing {
			return &other, nil
		}
		merged, err := json.Marshal(&other)
		if err != nil {
			return nil, err
		}
		upd, err := r.cli.Txn(ctx).
			If(clientv3.Compare(clientv3.ModRevision(key), "=", kvs[0].ModRevision)).
			Then(clientv3.OpPut(key, string(merged))).
			Commit()
		if err != nil {
			return nil, fmt.Errorf("twopc: record decision for %s: %w", rec.DTID, err)
		}
		if upd.Succeeded {
			return &other, nil
		}
		// Changed or deleted in between: look again.
	}
}

func (r records) get(ctx context.Context, dtid string) (*Record, error) {
	resp, err := r.cli.Get(ctx, r.key(dtid))
	if err != nil {
		return nil, fmt.Errorf("twopc: read decision for %s: %w", dtid, err)
	}
	if len(resp.Kvs) == 0 {
		return nil, fmt.Errorf("%s: %w", dtid, ErrNoRecord)
	}
	var rec Record
	if err := json.Unmarshal(resp.Kvs[0].Value, &rec); err != nil {
		return nil, fmt.Errorf("twopc: decision for %s: %w", dtid, err)
	}
	return &rec, nil
}

func (r records) list(ctx context.Context) ([]*Record, error) {
	resp, err := r.cli.Get(ctx, r.dir(), clientv3.WithPrefix())
	if err != nil {
		return nil, fmt.Errorf("twopc: list decisions: %w", err)
	}
	out := make([]*Record, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		var rec Record
		if err := json.Unmarshal(kv.Value, &rec); err != nil {
			return nil, fmt.Errorf("twopc: decision %s: %w", kv.Key, err)
		}
		out = append(out, &rec)
	}
	return out, nil
}

func (r records) remove(ctx context.Context, dtid string) error {
	_, err := r.cli.Delete(ctx, r.key(dtid))
	if err != nil {
		return fmt.Errorf("twopc: delete decision for %s: %w", dtid, err)
	}
	return nil
}

// removeAll deletes several records in one etcd transaction.
func (r records) removeAll(ctx context.Context, dtids []string) error {
	ops := make([]clientv3.Op, len(dtids))
	for i, dtid := range dtids {
		ops[i] = clientv3.OpDelete(r.key(dtid))
	}
	if _, err := r.cli.Txn(ctx).Then(ops...).Commit(); err != nil {
		return fmt.Errorf("twopc: delete %d decisions: %w", len(dtids), err)
	}
	return nil
}

// Records lists the decision records in etcd: the distributed
// transactions decided and not yet finished on every shard (the
// resolver removes a record once all its branches are done).
func (c *Coordinator) Records(ctx context.Context) ([]*Record, error) {
	return c.recs.list(ctx)
}
