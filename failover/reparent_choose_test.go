package failover

import (
	"strings"
	"testing"

	"github.com/shardgate/shardgate/topo"
)

// TestChooseReplica: without a name the most advanced replica is chosen;
// a named one is chosen if reachable and, for an emergency reparent, only
// if it holds everything the most advanced one does — else refused
// naming the more advanced one.
func TestChooseReplica(t *testing.T) {
	cand := func(uid uint32, pos string) *candidate {
		p, err := ParsePosition(pos)
		if err != nil {
			t.Fatal(err)
		}
		return &candidate{tablet: &topo.Tablet{Alias: topo.TabletAlias{Cell: "zone1", UID: uid}}, pos: p}
	}
	behind, ahead, level := cand(101, "0-100-40"), cand(102, "0-100-42"), cand(103, "0-100-42")
	cands := []*candidate{behind, ahead, level}
	key := shardKey{"ks", "-80"}
	for _, c := range []struct {
		want         string
		mostAdvanced bool
		got          *candidate
		err          string
	}{
		{want: "", got: ahead},
		{want: "zone1-0000000103", mostAdvanced: true, got: level},
		{want: "zone1-0000000101", mostAdvanced: false, got: behind},
		{want: "zone1-0000000101", mostAdvanced: true, err: "replica zone1-0000000101 (at 0-*-40) is less advanced than zone1-0000000102 (at 0-*-42)"},
		{want: "zone1-0000000109", err: "replica zone1-0000000109 is not reachable"},
	} {
		got, err := chooseReplica(key, cands, c.want, c.mostAdvanced)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("chooseReplica(%q, mostAdvanced %v): got %v, %v, want an error saying %q", c.want, c.mostAdvanced, got, err, c.err)
			}
			continue
		}
		if err != nil || got != c.got {
			t.Errorf("chooseReplica(%q, mostAdvanced %v): got %v, %v, want %s", c.want, c.mostAdvanced, got, err, c.got.tablet.Alias)
		}
	}
	if _, err := chooseReplica(key, nil, "", false); err == nil || !strings.Contains(err.Error(), "no reachable replica") {
		t.Errorf("chooseReplica with no candidates: got %v, want 'no reachable replica'", err)
	}
}
