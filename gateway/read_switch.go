package gateway

import (
	"math/rand/v2"

	"github.com/shardgate/shardgate/engine"
	"github.com/shardgate/shardgate/tablet"
	"github.com/shardgate/shardgate/topo"
)

// A resharding's canary read switch, as the gateway routes it.
//
// topo.SrvKeyspace.ReadSwitch names a second shard set (the workflow's
// targets) and a share in 1/10000. Each session draws a number in
// [0, topo.ReadSwitchScale) when it connects; its reads outside
// transactions go to the second set iff the draw is below the share. So a
// session keeps reading one side across statements while the share stays,
// and raising the share only moves sessions from the sources to the
// targets. Writes, locking reads and everything inside a transaction keep
// going to Partitions (the sources) until a write switch.
//
// Plans don't depend on the side: a plan holds vindexes and opcodes, and
// the engine asks VCursor.Shards for the shard list at every execution
// (engine/routing.go). Only a `USE ks:shard` target is planned into a
// plan (ByDestination), and such a session names its shard itself. So the
// plan cache needs no side in its key, and a switch can't run a plan built
// for the other shard set (TestReadSwitchCachedPlanFollowsSide).

// noReadSwitch is the draw of a statement that must not read from a read
// switch's shards.
const noReadSwitch = -1

// readSwitch is one keyspace's read switch.
type readSwitch struct {
	per10000 int
	// shards are the second set, in key order.
	shards []engine.ShardRange
	// types are the tablet types every one of shards has a tablet of: a
	// session of another type (`@replica` while the targets have no
	// replicas) keeps reading Partitions rather than failing.
	types map[topo.TabletType]bool
}

// newReadSwitch converts srv's read switch, or returns nil when there is
// none or it names a shard the topology doesn't have (the switch's shards
// were deleted by a cancel that hasn't cleared it yet): reads then stay on
// Partitions, which is always correct. tablets are the routing's pools.
func newReadSwitch(srv *topo.SrvKeyspace, shardsByName map[string]*topo.Shard, tablets map[topo.TabletType]map[shardKey][]*tablet.Pool) *readSwitch {
	sw := srv.ReadSwitch
	if sw == nil || len(sw.Shards) == 0 || sw.Per10000 <= 0 {
		return nil
	}
	rs := &readSwitch{per10000: sw.Per10000, shards: make([]engine.ShardRange, 0, len(sw.Shards)), types: map[topo.TabletType]bool{}}
	for _, name := range sw.Shards {
		s := shardsByName[name]
		if s == nil {
			return nil
		}
		rs.shards = append(rs.shards, engine.ShardRange{Name: name, KeyRange: s.KeyRange})
	}
	for _, typ := range topo.TabletTypes() {
		rs.types[typ] = true
		for _, name := range sw.Shards {
			if len(tablets[typ][shardKey{srv.Name, name}]) == 0 {
				rs.types[typ] = false
			}
		}
	}
	return rs
}

// takes says whether a session of tablet type typ with this draw reads
// from the switch's shards.
func (rs *readSwitch) takes(typ topo.TabletType, draw int) bool {
	return draw >= 0 && draw < rs.per10000 && rs.types[typ]
}

// newReadDraw is a session's draw, fixed for its life.
func newReadDraw() int {
	return rand.IntN(topo.ReadSwitchScale)
}

// readDraw is the draw the statement's shard lists are chosen with: the
// session's for a non-locking SELECT outside any transaction, or
// noReadSwitch.
func (vc *vcursor) readDraw() int {
	if !vc.read || vc.locking || vc.tx() != nil {
		return noReadSwitch
	}
	return vc.s.readDraw
}
