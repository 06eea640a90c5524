package gateway

import (
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/sqlerror"
	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/topo"
)

// Replica reads (``USE `ks@replica` ``): each statement picks, per shard,
// one replica that may serve — reachable, both replication threads
// running, lag known and within Config.ReplicaLagLimit — round-robin,
// replicas of the gateway's cell first. With none, the read goes to the
// shard's primary, unless the session set replica_reads = 'strict'; then
// it fails with a retryable error naming what is wrong with each replica.

// replicaTablet is a replica of a shard in the routing.
type replicaTablet struct {
	alias topo.TabletAlias
	pool  *tablet.Pool
	local bool // in the gateway's cell
}

// replicaReads is a session's replica_reads: what a replica read does when
// no replica of the shard may serve.
type replicaReads int

const (
	// replicaFallback reads from the primary instead (the default).
	replicaFallback replicaReads = iota
	// replicaStrict fails the statement.
	replicaStrict
)

func (m replicaReads) String() string {
	if m == replicaStrict {
		return "strict"
	}
	return "fallback"
}

// setReplicaReads handles SET replica_reads = 'fallback' | 'strict'.
func (s *session) setReplicaReads(value string) error {
	switch strings.ToLower(strings.Trim(value, "'\"`")) {
	case "fallback":
		s.replicaReads = replicaFallback
	case "strict":
		s.replicaReads = replicaStrict
	default:
		return sqlerror.New(sqlerror.User, mysql.ER_WRONG_VALUE_FOR_VAR, "Variable 'replica_reads' can't be set to the value of '%s' (want 'fallback' or 'strict')", strings.Trim(value, "'\"`"))
	}
	return nil
}

// tabletPool is the pool a statement of the session runs on for a shard:
// the primary's, or for a replica session the replica picked.
func (s *session) tabletPool(r *routing, keyspace, shard string) (*tablet.Pool, error) {
	if s.tabletType == topo.TabletPrimary {
		return r.pool(keyspace, shard, topo.TabletPrimary, 0)
	}
	return s.replicaPool(r, keyspace, shard)
}

// replicaPool picks a replica of the shard that may serve, else falls
// back to the primary or, strict, fails.
func (s *session) replicaPool(r *routing, keyspace, shard string) (*tablet.Pool, error) {
	view := s.srv.topo.health.Load()
	limit := s.srv.lagLimit()
	now := time.Now()
	all := r.replicas[shardKey{keyspace, shard}]
	var local, other []*tablet.Pool
	var problems []string
	for _, rt := range all {
		if h := view.record(rt.alias, now); h != nil {
			if p := h.ReplicaProblem(limit); p != "" {
				problems = append(problems, rt.alias.String()+": "+p)
				continue
			}
		}
		if rt.local {
			local = append(local, rt.pool)
		} else {
			other = append(other, rt.pool)
		}
	}
	if len(local) == 0 {
		local = other
	}
	if len(local) > 0 {
		return local[int(s.srv.replicaPick.Add(1))%len(local)], nil
	}
	why := "it has no replica"
	if len(problems) > 0 {
		why = strings.Join(problems, "; ")
	}
	if s.replicaReads == replicaStrict {
		return nil, sqlerror.New(sqlerror.Unavailable, mysql.ER_UNKNOWN_ERROR,
			"no healthy replica of %s/%s to read from (%s) and replica_reads is 'strict'", keyspace, shard, why)
	}
	p, err := r.pool(keyspace, shard, topo.TabletPrimary, 0)
	if err != nil {
		return nil, sqlerror.New(sqlerror.Unavailable, mysql.ER_UNKNOWN_ERROR,
			"no healthy replica of %s/%s to read from (%s) and no primary to fall back to", keyspace, shard, why)
	}
	return p, nil
}
