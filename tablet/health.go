package tablet

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// Health is what one check of an instance found.
type Health struct {
	// Reachable: a connection was had and answered.
	Reachable bool
	// ReadOnly is @@global.read_only.
	ReadOnly bool
	// ReplicationLagSeconds is the replica's Seconds_Behind_Master (or
	// _Source); nil when the instance is not a replica or its replication
	// is not running.
	ReplicationLagSeconds *int64
	// Err says why the instance is not healthy: unreachable, a failed
	// query, or ErrReplicationNotRunning on a replica whose IO or SQL
	// thread is stopped. Nil when healthy.
	Err error
}

// CheckHealth checks the pool's instance with a connection from the pool.
// It works against MariaDB and MySQL: SHOW REPLICA STATUS, falling back to
// SHOW SLAVE STATUS on servers that don't know it.
func CheckHealth(ctx context.Context, p *Pool) Health {
	c, err := p.Get(ctx)
	if err != nil {
		return Health{Err: fmt.Errorf("tablet: health of %s: %w", p.Addr(), err)}
	}
	defer p.Put(c)

	var h Health
	r, err := c.Execute(ctx, "SELECT @@global.read_only")
	if err != nil {
		h.Reachable = isServerError(err)
		h.Err = fmt.Errorf("tablet: health of %s: %w", p.Addr(), err)
		return h
	}
	h.Reachable = true
	if len(r.Rows) != 1 || len(r.Rows[0]) != 1 {
		h.Err = fmt.Errorf("tablet: health of %s: @@global.read_only returned %d rows", p.Addr(), len(r.Rows))
		return h
	}
	h.ReadOnly = string(r.Rows[0][0]) == "1" || string(r.Rows[0][0]) == "ON"

	status, err := c.Execute(ctx, "SHOW REPLICA STATUS")
	var me *mysql.MyError
	if errors.As(err, &me) && me.Code == mysql.ER_PARSE_ERROR {
		status, err = c.Execute(ctx, "SHOW SLAVE STATUS")
	}
	if err != nil {
		h.Reachable = isServerError(err)
		h.Err = fmt.Errorf("tablet: health of %s: replication status: %w", p.Addr(), err)
		return h
	}
	if len(status.Rows) == 0 {
		return h // not a replica
	}
	col := func(names ...string) ([]byte, bool) {
		for i, f := range status.Fields {
			for _, n := range names {
				if string(f.Name) == n {
					return status.Rows[0][i], true
				}
			}
		}
		return nil, false
	}
	ioRunning, _ := col("Slave_IO_Running", "Replica_IO_Running")
	sqlRunning, _ := col("Slave_SQL_Running", "Replica_SQL_Running")
	if string(ioRunning) != "Yes" || string(sqlRunning) != "Yes" {
		lastErr, _ := col("Last_Error")
		h.Err = fmt.Errorf("tablet: health of %s: IO thread %s, SQL thread %s, last error %q: %w",
			p.Addr(), ioRunning, sqlRunning, lastErr, ErrReplicationNotRunning)
		return h
	}
	if lag, ok := col("Seconds_Behind_Master", "Seconds_Behind_Source"); ok && lag != nil {
		if n, err := strconv.ParseInt(string(lag), 10, 64); err == nil {
			h.ReplicationLagSeconds = &n
		}
	}
	return h
}
