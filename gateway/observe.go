package gateway

import (
	"time"

	"github.com/shardgate/shardgate/querystats"
	"github.com/shardgate/shardgate/sqlerror"
)

// observe records a finished statement in the gateway's metrics, its
// query digest and the query log, and returns what the hooks are told.
// On the plan cache's hot path it allocates nothing: the entry keeps its
// counters and digest, and the statement's own fields are plain values.
// It returns a zero StatementInfo unless the hooks or the query log need
// one (building it costs nothing, but its digest text may).
func (s *session) observe(took time.Duration, err error) StatementInfo {
	srv := s.srv
	m := srv.metrics
	if m == nil {
		return StatementInfo{}
	}
	st := &s.stmt
	var code uint16
	if err != nil {
		code = m.countError(err)
	}
	if st.protocolOnly {
		return StatementInfo{}
	}
	var ps *planStats
	var d *querystats.Digest
	if e := st.cached; e != nil {
		ps = e.stats.Load()
		if ps == nil {
			ps = m.statsFor(e.plan, s.keyspace)
			e.stats.Store(ps)
		}
		d = srv.digestOf(e, ps.keyspace, st.keyPrefix)
	} else {
		ps = m.statsFor(st.plan, s.keyspace)
		d = srv.digests.Lookup(ps.keyspace, querystats.Normalize(st.sql))
	}
	ps.queries.Inc()
	ps.duration.Observe(took.Seconds())
	shards := int(st.shardQueries.Load())
	d.Record(took, st.rows, shards, err != nil)

	log := srv.cfg.QueryLog
	wantLog := log.Wants(took, err != nil)
	if !wantLog && srv.cfg.Hooks == nil {
		return StatementInfo{}
	}
	info := s.info()
	info.Statement, info.Plan = ps.statement, ps.plan
	info.Digest, info.DigestText = d.ID, d.Text
	info.Rows, info.ShardQueries = st.rows, shards
	if wantLog {
		e := &querystats.Entry{
			Time:      st.started.UTC(),
			User:      info.User,
			Keyspace:  ps.keyspace,
			Digest:    d.ID,
			Statement: d.Text,
			Duration:  took.Seconds(),
			Rows:      st.rows,
			Shards:    shards,
		}
		if err != nil {
			e.Error, e.ErrorCode = sqlerror.ToMyError(err).Message, code
		}
		log.Write(e)
	}
	return info
}
