package topo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/shardgate/shardgate/topo/vschema"
)

// TrackedSchema is what the schema tracker (package schema) last read of
// one keyspace's tables from its shards: every table's columns in table
// order. It is kept at <root>/schemas/<keyspace> so every gateway plans
// with the same columns; Snapshot applies it to the compiled vschema
// (vschema.VSchema.ApplyTrackedColumns).
type TrackedSchema struct {
	// Tables maps table names to their columns, in table order.
	Tables map[string][]vschema.Column `json:"tables"`
	// Shard is the shard the columns were read from.
	Shard string `json:"shard,omitempty"`
	// ReadAt is when they were read. It is not compared: SaveTrackedSchema
	// writes nothing when only ReadAt changed, so a quiet schema causes no
	// new snapshot (and no plan cache invalidation).
	ReadAt time.Time `json:"read_at"`
}

func (s *Store) schemasDir() string               { return s.root + "/schemas/" }
func (s *Store) schemaKey(keyspace string) string { return s.schemasDir() + keyspace }

// GetTrackedSchema returns a keyspace's tracked schema and the mod
// revision of its key (0 and a nil schema when none was saved yet, which is
// not an error: a new keyspace has none).
func (s *Store) GetTrackedSchema(ctx context.Context, keyspace string) (*TrackedSchema, int64, error) {
	data, rev, err := s.getRaw(ctx, s.schemaKey(keyspace), "tracked schema of "+keyspace)
	if err != nil {
		if errors.Is(err, ErrNoNode) {
			return nil, 0, nil
		}
		return nil, 0, err
	}
	var ts TrackedSchema
	if err := json.Unmarshal(data, &ts); err != nil {
		return nil, 0, fmt.Errorf("topo: decode tracked schema of %q: %w", keyspace, err)
	}
	return &ts, rev, nil
}

// SaveTrackedSchema writes a keyspace's tracked schema if its key's mod
// revision is still readRev (0: absent), i.e. nobody saved one since the
// caller read it before reading the shard; a schema equal to the stored
// one (ReadAt aside) is not written. It returns whether it wrote and the
// revision of the stored record's write (this one's, or the earlier one
// it equals), which a gateway's snapshot must reach before it plans with
// the columns.
// A failed revision check is ErrBadVersion: the caller reads again.
func (s *Store) SaveTrackedSchema(ctx context.Context, keyspace string, ts *TrackedSchema, readRev int64) (written bool, rev int64, err error) {
	key := s.schemaKey(keyspace)
	data, err := json.Marshal(ts)
	if err != nil {
		return false, 0, fmt.Errorf("topo: encode tracked schema of %q: %w", keyspace, err)
	}
	cur, err := s.cli.Get(ctx, key)
	if err != nil {
		return false, 0, fmt.Errorf("topo: read tracked schema of %q: %w", keyspace, err)
	}
	if len(cur.Kvs) > 0 && cur.Kvs[0].ModRevision == readRev && sameTables(cur.Kvs[0].Value, ts) {
		// Already stored: a snapshot at its write's revision has it
		// (not the store's current revision, which keys no snapshot
		// reads, such as tablet health, move on).
		return false, cur.Kvs[0].ModRevision, nil
	}
	resp, err := s.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.ModRevision(key), "=", readRev)).
		Then(clientv3.OpPut(key, string(data))).
		Commit()
	if err != nil {
		return false, 0, fmt.Errorf("topo: save tracked schema of %q: %w", keyspace, err)
	}
	if !resp.Succeeded {
		return false, 0, fmt.Errorf("save tracked schema of %q: saved by another since it was read: %w", keyspace, ErrBadVersion)
	}
	return true, resp.Header.Revision, nil
}

// sameTables says whether stored (a TrackedSchema's JSON) has the tables of ts.
func sameTables(stored []byte, ts *TrackedSchema) bool {
	var old TrackedSchema
	if json.Unmarshal(stored, &old) != nil {
		return false
	}
	a, err1 := json.Marshal(old.Tables)
	b, err2 := json.Marshal(ts.Tables)
	return err1 == nil && err2 == nil && bytes.Equal(a, b)
}
