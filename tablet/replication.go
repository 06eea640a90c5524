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
// ("host:port"), logging in there as ReplicationUser: see ReplicateFrom.
// my.cnf has skip_slave_start, so after a restart a replica applies
// nothing until StartReplication is called again: whoever restarts it
// decides whom it follows.
func (m *Mysqld) StartReplication(ctx context.Context, primaryAddr string) error {
	c, err := Dial(ctx, m.adminConfig())
	if err != nil {
		return fmt.Errorf("tablet: start replication on %s: %w", m.cfg.Dir, err)
	}
	defer func() { _ = c.Close() }()
	src := ReplicationSource{Addr: primaryAddr, User: ReplicationUser, Password: ReplicationPassword}
	if err := ReplicateFrom(ctx, c, src); err != nil {
		return fmt.Errorf("tablet: start replication on %s: %w", m.cfg.Dir, err)
	}
	return nil
}

// ReplicationSource is the primary a replica follows and the account it
// logs in there with.
type ReplicationSource struct {
	// Addr is the primary's "host:port".
	Addr           string
	User, Password string
}

// ReplicateFrom makes the instance c is connected to a GTID replica of
// src: read_only=ON, then CHANGE MASTER TO ... MASTER_USE_GTID=slave_pos
// and START SLAVE. The replica resumes from its own gtid_slave_pos (from
// the primary's first binlog when new). Calling it again repoints the
// replica. c's user needs the SUPER (or REPLICATION SLAVE ADMIN and
// READ_ONLY ADMIN) privilege.
func ReplicateFrom(ctx context.Context, c *Conn, src ReplicationSource) error {
	host, portStr, err := net.SplitHostPort(src.Addr)
	if err != nil {
		return fmt.Errorf("tablet: replicate from %q: %w", src.Addr, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return fmt.Errorf("tablet: replicate from %q: bad port: %w", src.Addr, err)
	}
	for _, q := range []string{
		"STOP SLAVE",
		"SET GLOBAL read_only = ON",
		fmt.Sprintf("CHANGE MASTER TO MASTER_HOST = %s, MASTER_PORT = %d, MASTER_USER = %s, MASTER_PASSWORD = %s, "+
			"MASTER_USE_GTID = slave_pos, MASTER_CONNECT_RETRY = 1",
			quoteString(host), port, quoteString(src.User), quoteString(src.Password)),
		"START SLAVE",
	} {
		if _, err := c.Execute(ctx, q); err != nil {
			return fmt.Errorf("tablet: replicate from %s: %s: %w", src.Addr, redactPassword(q), err)
		}
	}
	return nil
}

// redactPassword keeps a CHANGE MASTER TO's password out of errors.
func redactPassword(q string) string {
	if i := strings.Index(q, "MASTER_PASSWORD = "); i >= 0 {
		return q[:i] + "MASTER_PASSWORD = '...', ..."
	}
	return q
}

// Promote makes the instance c is connected to a writable primary: it
// stops replicating, forgets its primary (RESET SLAVE ALL; gtid_slave_pos
// stays) and turns read_only off. Promoting a primary does nothing.
func Promote(ctx context.Context, c *Conn) error {
	for _, q := range []string{"STOP SLAVE", "RESET SLAVE ALL", "SET GLOBAL read_only = OFF"} {
		if _, err := c.Execute(ctx, q); err != nil {
			return fmt.Errorf("tablet: promote: %s: %w", q, err)
		}
	}
	return nil
}

// SetReadOnly sets @@global.read_only on the instance c is connected to.
func SetReadOnly(ctx context.Context, c *Conn, on bool) error {
	q := "SET GLOBAL read_only = OFF"
	if on {
		q = "SET GLOBAL read_only = ON"
	}
	if _, err := c.Execute(ctx, q); err != nil {
		return fmt.Errorf("tablet: %s: %w", q, err)
	}
	return nil
}

// ReplicaStatus is what SHOW SLAVE STATUS says of a replica.
type ReplicaStatus struct {
	// SourceAddr is the primary it follows, "host:port".
	SourceAddr string
	// IORunning and SQLRunning: its threads run.
	IORunning, SQLRunning bool
	// ReceivedPos is the GTID position its IO thread has received
	// (Gtid_IO_Pos): what its relay log holds, applied or not.
	ReceivedPos string
	LastError   string
}

// ReadReplicaStatus returns the replica status of the instance c is
// connected to; nil (and no error) if it is not a replica.
func ReadReplicaStatus(ctx context.Context, c *Conn) (*ReplicaStatus, error) {
	r, err := c.Execute(ctx, "SHOW SLAVE STATUS")
	if err != nil {
		return nil, fmt.Errorf("tablet: replica status: %w", err)
	}
	if len(r.Rows) == 0 {
		return nil, nil
	}
	col := func(name string) string {
		for i, f := range r.Fields {
			if string(f.Name) == name {
				return string(r.Rows[0][i])
			}
		}
		return ""
	}
	st := &ReplicaStatus{
		IORunning:   col("Slave_IO_Running") == "Yes",
		SQLRunning:  col("Slave_SQL_Running") == "Yes",
		ReceivedPos: col("Gtid_IO_Pos"),
		LastError:   col("Last_Error"),
	}
	if host := col("Master_Host"); host != "" {
		st.SourceAddr = net.JoinHostPort(host, col("Master_Port"))
	}
	if st.LastError == "" {
		st.LastError = col("Last_IO_Error")
	}
	return st, nil
}

// CurrentPosition returns @@global.gtid_current_pos of the instance c is
// connected to: for each replication domain, the later of what it wrote
// itself and what it applied as a replica.
func CurrentPosition(ctx context.Context, c *Conn) (string, error) {
	r, err := c.Execute(ctx, "SELECT @@global.gtid_current_pos")
	if err != nil {
		return "", fmt.Errorf("tablet: gtid_current_pos: %w", err)
	}
	if len(r.Rows) != 1 || len(r.Rows[0]) != 1 {
		return "", fmt.Errorf("tablet: gtid_current_pos: got %d rows", len(r.Rows))
	}
	return string(r.Rows[0][0]), nil
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
	if err := WaitForGTID(ctx, c, gtidPos); err != nil {
		return fmt.Errorf("%w on %s", err, m.cfg.Dir)
	}
	return nil
}

// WaitForGTID waits until the instance c is connected to has applied
// gtidPos (MASTER_GTID_WAIT). The wait is bounded by ctx's deadline,
// passed to the server as the timeout; ErrReplicationTimeout if it
// expires first.
func WaitForGTID(ctx context.Context, c *Conn, gtidPos string) error {
	q := "SELECT MASTER_GTID_WAIT(" + quoteString(gtidPos) + ")"
	if dl, ok := ctx.Deadline(); ok {
		q = fmt.Sprintf("SELECT MASTER_GTID_WAIT(%s, %.3f)", quoteString(gtidPos), max(time.Until(dl).Seconds(), 0))
	}
	r, err := c.Execute(ctx, q)
	if err != nil {
		return fmt.Errorf("tablet: wait for %s: %w", gtidPos, err)
	}
	if len(r.Rows) != 1 || len(r.Rows[0]) != 1 {
		return fmt.Errorf("tablet: wait for %s: got %d rows", gtidPos, len(r.Rows))
	}
	switch string(r.Rows[0][0]) {
	case "0":
		return nil
	case "-1":
		return fmt.Errorf("%w: %s", ErrReplicationTimeout, gtidPos)
	}
	return fmt.Errorf("tablet: wait for %s: MASTER_GTID_WAIT returned %q", gtidPos, r.Rows[0][0])
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

// SetSemiSync sets the primary side of semi-sync replication on the
// instance c is connected to as SemiSyncSettings(waitForReplica) says; an
// instance already so set is left alone. The failover controller calls it
// on a primary it promotes (waiting for a replica only if it has one
// left), on a former primary it fences (a replica never waits), and on a
// primary whose shard gains a replica again.
//
// A change to not waiting turns rpl_semi_sync_master_enabled off and on
// again: disabling it releases the commits waiting for an
// acknowledgement, which then commit without one (a fenced former
// primary's, no gateway hears of them: they are errant transactions it
// keeps). A change to waiting never does: on a primary serving writes,
// the commits it released would be acknowledged to their clients with no
// replica holding them, and lost by the next failover (the failover soak
// lost one so). The primary's semi-sync turns on by itself once its
// replica has caught up.
func SetSemiSync(ctx context.Context, c *Conn, waitForReplica bool) error {
	want := SemiSyncSettings(waitForReplica)
	names := make([]string, len(want))
	for i, kv := range want {
		names[i] = "@@global." + kv[0]
	}
	r, err := c.Execute(ctx, "SELECT "+strings.Join(names, ", "))
	if err != nil {
		return fmt.Errorf("tablet: read semi-sync settings: %w", err)
	}
	same := len(r.Rows) == 1
	for i, kv := range want {
		if same && !sameSetting(string(r.Rows[0][i]), kv[1]) {
			same = false
		}
	}
	if same {
		return nil
	}
	var qs []string
	if !waitForReplica {
		qs = append(qs, "SET GLOBAL rpl_semi_sync_master_enabled = OFF")
	}
	for _, kv := range want {
		qs = append(qs, "SET GLOBAL "+kv[0]+" = "+kv[1])
	}
	for _, q := range qs {
		if _, err := c.Execute(ctx, q); err != nil {
			return fmt.Errorf("tablet: %s: %w", q, err)
		}
	}
	return nil
}

// sameSetting compares a variable's value as SELECT shows it (1/0 for a
// boolean) with how SemiSyncSettings spells it.
func sameSetting(got, want string) bool {
	switch want {
	case "ON":
		return got == "1" || got == "ON"
	case "OFF":
		return got == "0" || got == "OFF"
	}
	return got == want
}
