package reshard

import (
	"slices"

	"github.com/shardgate/shardgate/topo"
)

// Reverse replication: while writes are switched (state writes-switched)
// the targets take the writes, and the same catch-up machinery streams
// their binlogs into the sources, so the sources stay current and
// `reverse-traffic` can send the writes back at once. The stream is the
// forward one with the sides swapped:
//
//   - its "sources" are the workflow's targets and its "targets" the
//     workflow's sources; each row goes to the source shard owning its
//     keyspace id;
//   - its positions are stored on the sources, in the position table
//     under the workflow name with reverseSuffix (the forward stream's
//     rows stay on the targets), written by the write switch before it
//     flips: the targets' @@gtid_binlog_pos while the keyspace was held,
//     so a reverse stream replays exactly the writes made on the targets
//     after the switch;
//   - its progress goes to Workflow.Reverse, by target shard.
//
// The sources are read-only then; the controller's user writes there
// anyway (it needs SUPER or READ ONLY ADMIN, as the catch-up into
// read-only instances does; the gateway's shard user must have neither).

// reverseSuffix marks a reverse stream's rows in the position table.
const reverseSuffix = ":reverse"

// reversed is w seen from reverse replication: sources and targets
// swapped.
func reversed(w *topo.Workflow) *topo.Workflow {
	rv := *w
	rv.SourceShards, rv.TargetShards = slices.Clone(w.TargetShards), slices.Clone(w.SourceShards)
	return &rv
}

// posName is the workflow column of the stream's rows in the position
// table.
func (c *catchup) posName() string {
	return positionName(c.wf.Name, c.reverse)
}

func positionName(workflow string, reverse bool) string {
	if reverse {
		return workflow + reverseSuffix
	}
	return workflow
}

// active reports whether the stream runs in state s.
func (c *catchup) active(s topo.WorkflowState) bool {
	if c.reverse {
		return s == topo.WorkflowWritesSwitched
	}
	return catchesUp(s)
}

// progressOf is w's progress map of the stream's direction.
func (c *catchup) progressOf(w *topo.Workflow) map[string]*topo.CatchupProgress {
	if c.reverse {
		return w.Reverse
	}
	return w.Catchup
}

// setProgress records the stream's progress for its source in w.
func (c *catchup) setProgress(w *topo.Workflow, p *topo.CatchupProgress) {
	m := &w.Catchup
	if c.reverse {
		m = &w.Reverse
	}
	if *m == nil {
		*m = map[string]*topo.CatchupProgress{}
	}
	(*m)[c.source] = p
}
