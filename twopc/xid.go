package twopc

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/shardgate/shardgate/tablet"
)

// Xid names one XA branch: the distributed transaction id (gtrid) and the
// shard (bqual, "keyspace:shard"), so `XA RECOVER` on any shard says which
// transaction a branch belongs to and where its siblings are.
type Xid struct {
	DTID     string
	Keyspace string
	Shard    string
}

// String is the xid in SQL: 'dtid','keyspace:shard'. Keyspace and shard
// names and dtids hold no quotes (topo names are checked identifiers).
func (x Xid) String() string {
	return "'" + x.DTID + "','" + x.Keyspace + ":" + x.Shard + "'"
}

// Start, End, Prepare, Commit, Rollback and CommitOnePhase are the XA
// statements for the branch.
func (x Xid) Start() string          { return "XA START " + x.String() }
func (x Xid) End() string            { return "XA END " + x.String() }
func (x Xid) Prepare() string        { return "XA PREPARE " + x.String() }
func (x Xid) Commit() string         { return "XA COMMIT " + x.String() }
func (x Xid) CommitOnePhase() string { return "XA COMMIT " + x.String() + " ONE PHASE" }
func (x Xid) Rollback() string       { return "XA ROLLBACK " + x.String() }

// Branch is a prepared branch found by XA RECOVER.
type Branch struct {
	Xid
	// Foreign is set for a branch whose xid is not shardgate's (another
	// coordinator's); the resolver leaves it alone.
	Foreign bool
	// Raw is the xid data as XA RECOVER shows it.
	Raw string
}

// Recover lists the prepared branches of one instance.
func Recover(ctx context.Context, conn *tablet.Conn) ([]Branch, error) {
	res, err := conn.Execute(ctx, "XA RECOVER")
	if err != nil {
		return nil, err
	}
	var out []Branch
	// Columns: formatID, gtrid_length, bqual_length, data.
	for _, row := range res.Rows {
		if len(row) < 4 {
			continue
		}
		gl, err1 := strconv.Atoi(string(row[1]))
		bl, err2 := strconv.Atoi(string(row[2]))
		data := string(row[3])
		b := Branch{Raw: data}
		if err1 != nil || err2 != nil || gl+bl != len(data) {
			b.Foreign = true
			out = append(out, b)
			continue
		}
		b.DTID = data[:gl]
		ks, shard, ok := strings.Cut(data[gl:], ":")
		b.Keyspace, b.Shard = ks, shard
		if !ok || leaseOf(b.DTID) == 0 {
			b.Foreign = true
		}
		out = append(out, b)
	}
	return out, nil
}

// leaseOf parses the coordinator lease id a dtid starts with; 0 if the
// dtid is not one of ours.
func leaseOf(dtid string) int64 {
	hexID, _, ok := strings.Cut(dtid, "-")
	if !ok {
		return 0
	}
	id, err := strconv.ParseInt(hexID, 16, 64)
	if err != nil {
		return 0
	}
	return id
}

func newDTID(lease int64, seq uint64) string {
	return fmt.Sprintf("%x-%d", lease, seq)
}
