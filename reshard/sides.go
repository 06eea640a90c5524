package reshard

import (
	"context"
	"fmt"
	"strings"

	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/topo"
	"github.com/shardgate/shardgate/topo/vschema"
)

// A workflow has a source side and a target side. A reshard's are two
// shard sets of one keyspace; a movetables' are two keyspaces (or an
// external database and a keyspace). The copy, catch-up and vdiff work
// on the sides these functions describe, so one runner runs both kinds:
//
//   - rows are read on the sources from sourceDB, logging in with
//     sourceLogin;
//   - they go to the targets' database, the workflow's Keyspace, routed by
//     that keyspace's vschema;
//   - the tables are workflowTables: every base table of the source for a
//     reshard, the listed ones for a movetables.

// sourceKeyspace is the keyspace whose shards are the sources; "" for an
// external source.
func sourceKeyspace(w *topo.Workflow) string {
	if mt := w.MoveTables; mt != nil {
		return mt.SourceKeyspace
	}
	return w.Keyspace
}

// sourceDB is the database the rows are read from on a source.
func sourceDB(w *topo.Workflow) string {
	if mt := w.MoveTables; mt != nil {
		if mt.External != nil {
			return mt.External.DB
		}
		return mt.SourceKeyspace
	}
	return w.Keyspace
}

// sourceLogin is how to log in to a source at addr: an external source's
// own credentials, else the controller's.
func sourceLogin(cc tablet.ConnConfig, w *topo.Workflow, addr string) tablet.ConnConfig {
	if mt := w.MoveTables; mt != nil && mt.External != nil {
		cc.User, cc.Password = mt.External.User, mt.External.Password
	}
	cc.Addr, cc.DB = addr, sourceDB(w)
	return cc
}

// workflowTables are the tables a workflow copies from a source, sorted:
// split are routed to the target owning each row (or the one target of
// an unsharded keyspace), reference go whole to every target. ks is the
// target keyspace's vschema.
func workflowTables(ctx context.Context, w *topo.Workflow, ks *vschema.KeyspaceSchema, src *tablet.Conn) (split, reference []string, err error) {
	if mt := w.MoveTables; mt != nil {
		for _, t := range mt.Tables {
			if err := placesMoved(ks, t); err != nil {
				return nil, nil, err
			}
		}
		return mt.Tables, nil, nil
	}
	tables, err := baseTables(ctx, src)
	if err != nil {
		return nil, nil, err
	}
	return splitTables(ks, tables)
}

// placesMoved checks that the target keyspace can hold a moved table: any
// table in an unsharded keyspace; in a sharded one, a table its vschema
// places by a single-column functional primary vindex.
func placesMoved(ks *vschema.KeyspaceSchema, table string) error {
	if !ks.Sharded {
		return nil
	}
	if isReference(ks, table) {
		return fmt.Errorf("table %q is a reference table in keyspace %q; movetables moves tables the target shards by a primary vindex: %w", table, ks.Name, ErrInvalid)
	}
	_, err := primaryVindex(ks, table)
	return err
}

// ddlConcerns reports whether a DDL statement q, run with default
// database schema, touches the workflow: any DDL in the source database of
// a reshard; for a movetables, one in the source database that names a
// moved table.
func ddlConcerns(w *topo.Workflow, schema, q string) bool {
	db := sourceDB(w)
	if mentionsSchema(q, positionSchema) {
		// The position table (a write switch creates it on the sources
		// for reverse replication): not the workflow's tables.
		return false
	}
	if schema != db && !mentionsSchema(q, db) {
		return false
	}
	mt := w.MoveTables
	if mt == nil {
		return true
	}
	lq := strings.ToLower(q)
	for _, t := range mt.Tables {
		if strings.Contains(lq, strings.ToLower(t)) {
			return true
		}
	}
	return false
}
