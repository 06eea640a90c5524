package tablet

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// StartReplication makes the instance a GTID replica of primaryAddr
// ("host:port"), logging in there as ReplicationUser: read_only=ON, then
// CHANGE MASTER TO ... MASTER_USE_GTID=slave_pos and START SLAVE. The
// replica resumes from its own gtid_slave_pos (from the primary's first
// binlog when new). Calling it again repoints the replica. my.cnf has
// skip_slave_start, so after a restart a replica applies nothing until
// StartReplication is called again: whoever restarts it decides whom it
// follows.
func (m *Mysqld) StartReplication(ctx context.Context, primaryAddr string) error {
	host, portStr, err := net.SplitHostPort(primaryAddr)
	if err != nil {
		return fmt.Errorf("tablet: start replication from %q: %w", primaryAddr, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return fmt.Errorf("tablet: start replication from %q: bad port: %w", primaryAddr, err)
	}
	c, err := Dial(ctx, m.adminConfig())
	if err != nil {
		return fmt.Errorf("tablet: start replication on %s: %w", m.cfg.Dir, err)
	}
	defer func() { _ = c.Close() }()
	for _, q := range []string{
		"STOP SLAVE",
		"SET GLOBAL read_only = ON",
		fmt.Sprintf("CHANGE MASTER TO MASTER_HOST = %s, MASTER_PORT = %d, MASTER_USER = %s, MASTER_PASSWORD = %s, "+
			"MASTER_USE_GTID = slave_pos, MASTER_CONNECT_RETRY = 1",
			quoteString(host), port, quoteString(ReplicationUser), quoteString(ReplicationPassword)),
		"START SLAVE",
	} {
		if _, err := c.Execute(ctx, q); err != nil {
			return fmt.Errorf("tablet: start replication on %s: %s: %w", m.cfg.Dir, q, err)
		}
	}
	return nil
}

// Position returns the GTID position of everything in the instance's
// binlog (@@global.gtid_binlog_pos), what a replica waits for with
// WaitForPosition.
func (m *Mysqld) Position(ctx context.Context) (string, error) {
	c, err := Dial(ctx, m.adminConfig())
	if err != nil {
		return "", fmt.Errorf("tablet: position of %s: %w", m.cfg.Dir, err)
	}
	defer func() { _ = c.Close() }()
	r, err := c.Execute(ctx, "SELECT @@global.gtid_binlog_pos")
	if err != nil {
		return "", fmt.Errorf("tablet: position of %s: %w", m.cfg.Dir, err)
	}
	if len(r.Rows) != 1 || len(r.Rows[0]) != 1 {
		return "", fmt.Errorf("tablet: position of %s: got %d rows", m.cfg.Dir, len(r.Rows))
	}
	return string(r.Rows[0][0]), nil
}

// WaitForPosition waits until the replica has applied gtidPos
// (MASTER_GTID_WAIT). The wait is bounded by ctx's deadline, passed to the
// server as the timeout; ErrReplicationTimeout if it expires first.
func (m *Mysqld) WaitForPosition(ctx context.Context, gtidPos string) error {
	c, err := Dial(ctx, m.adminConfig())
	if err != nil {
		return fmt.Errorf("tablet: wait for %s on %s: %w", gtidPos, m.cfg.Dir, err)
	}
	defer func() { _ = c.Close() }()
	q := "SELECT MASTER_GTID_WAIT(" + quoteString(gtidPos) + ")"
	if dl, ok := ctx.Deadline(); ok {
		q = fmt.Sprintf("SELECT MASTER_GTID_WAIT(%s, %.3f)", quoteString(gtidPos), max(time.Until(dl).Seconds(), 0))
	}
	r, err := c.Execute(ctx, q)
	if err != nil {
		return fmt.Errorf("tablet: wait for %s on %s: %w", gtidPos, m.cfg.Dir, err)
	}
	if len(r.Rows) != 1 || len(r.Rows[0]) != 1 {
		return fmt.Errorf("tablet: wait for %s on %s: got %d rows", gtidPos, m.cfg.Dir, len(r.Rows))
	}
	switch string(r.Rows[0][0]) {
	case "0":
		return nil
	case "-1":
		return fmt.Errorf("%w: %s on %s", ErrReplicationTimeout, gtidPos, m.cfg.Dir)
	}
	return fmt.Errorf("tablet: wait for %s on %s: MASTER_GTID_WAIT returned %q", gtidPos, m.cfg.Dir, r.Rows[0][0])
}

// quoteString quotes s as an SQL string literal.
func quoteString(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\'':
			b.WriteString("''")
		case '\\':
			b.WriteString(`\\`)
		case 0:
			b.WriteString(`\0`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('\'')
	return b.String()
}
