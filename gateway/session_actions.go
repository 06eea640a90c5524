package gateway

import (
	"cmp"
	"sort"
	"strconv"
	"time"

	"github.com/shardgate/shardgate/engine"
	"github.com/shardgate/shardgate/topo/vschema"
)

// The session as the engine's answering primitives see it
// (engine.SessionActions): the statement's topology snapshot, the
// session's warnings and ids. The vcursor is the implementation, so a
// primitive reads the same snapshot its shard calls route with.

var _ engine.SessionActions = (*vcursor)(nil)

// Session implements engine.VCursor.
func (vc *vcursor) Session() engine.SessionActions { return vc }

// Keyspaces lists the topology's keyspaces the session's user has a grant
// on, and all their shards, by name.
func (vc *vcursor) Keyspaces() []engine.KeyspaceInfo {
	snap := vc.r.snap
	if snap == nil {
		return nil
	}
	names := make([]string, 0, len(snap.Keyspaces))
	for name := range snap.Keyspaces {
		if vc.s.seesKeyspace(name) { // SHOW DATABASES lists what the user may use
			names = append(names, name)
		}
	}
	sort.Strings(names)
	out := make([]engine.KeyspaceInfo, len(names))
	for i, name := range names {
		out[i] = engine.KeyspaceInfo{Name: name, Sharded: snap.Keyspaces[name].Sharded}
		for _, sh := range snap.Shards[name] {
			out[i].Shards = append(out[i].Shards, sh.Name)
		}
	}
	return out
}

// Tablets lists the topology's tablets by alias, with their health and
// whether this gateway serves from them.
func (vc *vcursor) Tablets() []engine.TabletInfo {
	srv := vc.s.srv
	statuses := vc.r.tabletStatuses(srv.topo.health.Load(), srv.lagLimit(), time.Now())
	out := make([]engine.TabletInfo, len(statuses))
	for i, st := range statuses {
		t := st.Tablet
		out[i] = engine.TabletInfo{
			Cell: t.Alias.Cell, Keyspace: t.Keyspace, Shard: t.Shard, Type: string(t.Type),
			Alias: t.Alias.String(), Host: t.Host, State: "SERVING", Health: cmp.Or(st.Problem, "healthy"),
		}
		if !st.Serving {
			out[i].State = "NOT_SERVING"
		}
		h := st.Health
		if h == nil {
			if st.Problem == "" {
				out[i].Health = "" // unknown: no (fresh) health record
			}
			continue
		}
		out[i].LagSeconds = h.LagSeconds
		out[i].Replication = h.Replication()
		out[i].ReadOnly = strconv.FormatBool(h.ReadOnly)
		out[i].GTIDPosition = h.GTIDPosition
		out[i].CheckedAt = h.CheckedAt.UTC().Format(time.RFC3339Nano)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Alias < out[j].Alias })
	return out
}

// ShowWarnings returns the previous statement's warnings and makes them
// this statement's, so they stay for the next SHOW WARNINGS, as in MySQL.
func (vc *vcursor) ShowWarnings() []engine.Warning {
	s := vc.s
	s.warnings = append(s.warnings[:0], s.prevWarnings...)
	out := make([]engine.Warning, len(s.warnings))
	for i, w := range s.warnings {
		out[i] = engine.Warning{Level: w.level, Code: w.code, Message: w.message}
	}
	return out
}

// LastInsertID is the id the session's last insert generated (by a
// sequence or by the shard connection that ran it).
func (vc *vcursor) LastInsertID() uint64 { return vc.s.lastInsertID }

// ConnectionID is the client connection's id, the one KILL takes.
func (vc *vcursor) ConnectionID() uint64 { return uint64(vc.s.id) }

// vschema is the snapshot's compiled vschema, nil before the gateway has
// read the topology.
func (r *routing) vschema() *vschema.VSchema {
	if r.snap == nil {
		return nil
	}
	return r.snap.VSchema
}

var _ engine.QueryStatsReader = (*vcursor)(nil)

// QueryStats lists the gateway's query digests (SHOW QUERY STATS).
func (vc *vcursor) QueryStats() []engine.QueryStat {
	stats := vc.s.srv.digests.Top(0)
	out := make([]engine.QueryStat, len(stats))
	for i, q := range stats {
		out[i] = engine.QueryStat{
			Digest: q.ID, Keyspace: q.Keyspace, Query: q.Text,
			Count: q.Count, Errors: q.Errors, Rows: q.Rows, ShardQueries: q.ShardQueries,
			Total: q.Total, P50: q.P50, P99: q.P99,
		}
	}
	return out
}
