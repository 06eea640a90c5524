package schema

import (
	"context"
	"fmt"
	"strings"

	"github.com/shardgate/shardgate/sqlquote"
	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/topo"
	"github.com/shardgate/shardgate/topo/vschema"
)

// Querier runs one statement on a shard: a *tablet.Conn or *tablet.Pool.
type Querier interface {
	Execute(ctx context.Context, query string) (*tablet.Result, error)
}

var (
	_ Querier = (*tablet.Conn)(nil)
	_ Querier = (*tablet.Pool)(nil)
)

// Load reads the columns of every table (and view) of database from
// information_schema, in table order. Invisible columns (MariaDB's
// INVISIBLE) are left out: neither * nor a column-less INSERT covers them.
func Load(ctx context.Context, q Querier, database string) (map[string][]vschema.Column, error) {
	res, err := q.Execute(ctx, "select TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, EXTRA from information_schema.COLUMNS where TABLE_SCHEMA = "+
		string(sqlquote.Append(nil, database))+" order by TABLE_NAME, ORDINAL_POSITION")
	if err != nil {
		return nil, fmt.Errorf("schema: read the columns of %s: %w", database, err)
	}
	tables := map[string][]vschema.Column{}
	for _, row := range res.Rows {
		if len(row) != 4 {
			return nil, fmt.Errorf("schema: information_schema.COLUMNS answered %d columns, want 4", len(row))
		}
		if strings.Contains(strings.ToUpper(string(row[3])), "INVISIBLE") {
			continue
		}
		t := string(row[0])
		tables[t] = append(tables[t], vschema.Column{Name: string(row[1]), Type: string(row[2])})
	}
	return tables, nil
}

// Source is where a keyspace's schema is read: the primary of its first
// serving shard (DDL through the gateway runs on every shard, so any
// would do; the first is stable). ok is false when the keyspace has no
// serving shard with a primary.
func Source(snap *topo.Snapshot, keyspace string) (shard, addr string, ok bool) {
	if snap == nil {
		return "", "", false
	}
	srv := snap.Srv[keyspace]
	if srv == nil {
		return "", "", false
	}
	for _, name := range srv.Partitions[topo.TabletPrimary] {
		for _, sh := range snap.Shards[keyspace] {
			if sh.Name != name || sh.PrimaryAlias == nil {
				continue
			}
			for _, tb := range snap.Tablets {
				if tb.Alias == *sh.PrimaryAlias {
					return name, tb.Addr(), true
				}
			}
		}
	}
	return "", "", false
}
