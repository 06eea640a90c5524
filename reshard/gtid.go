package reshard

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// gtid is one MariaDB GTID, domain-server-sequence.
type gtid struct {
	domain, server uint32
	seq            uint64
}

func (g gtid) String() string { return fmt.Sprintf("%d-%d-%d", g.domain, g.server, g.seq) }

// position is a MariaDB GTID position: per replication domain, the last
// transaction. With gtid_strict_mode sequence numbers only grow within a
// domain, so positions compare domain by domain; the server id is kept
// because a binlog dump must name a GTID that is in the binlog.
type position map[uint32]gtid

// parsePosition parses a position as MariaDB writes it ("" is empty).
func parsePosition(s string) (position, error) {
	p := position{}
	for g := range strings.SplitSeq(s, ",") {
		g = strings.TrimSpace(g)
		if g == "" {
			continue
		}
		parts := strings.Split(g, "-")
		if len(parts) != 3 {
			return nil, fmt.Errorf("GTID %q: want domain-server-sequence", g)
		}
		d, err1 := strconv.ParseUint(parts[0], 10, 32)
		sv, err2 := strconv.ParseUint(parts[1], 10, 32)
		seq, err3 := strconv.ParseUint(parts[2], 10, 64)
		if err1 != nil || err2 != nil || err3 != nil {
			return nil, fmt.Errorf("GTID %q: want numbers domain-server-sequence", g)
		}
		p.add(gtid{uint32(d), uint32(sv), seq})
	}
	return p, nil
}

// add moves p's domain of g forward to g (never back).
func (p position) add(g gtid) {
	if cur, ok := p[g.domain]; !ok || g.seq >= cur.seq {
		p[g.domain] = g
	}
}

// has tells whether g is at or before p in its domain: a transaction p
// already includes.
func (p position) has(g gtid) bool {
	cur, ok := p[g.domain]
	return ok && cur.seq >= g.seq
}

// covers tells whether p includes everything o does.
func (p position) covers(o position) bool {
	for _, g := range o {
		if !p.has(g) {
			return false
		}
	}
	return true
}

func (p position) clone() position { return maps.Clone(p) }

// merge returns, per domain, the later of p and o.
func (p position) merge(o position) position {
	out := p.clone()
	if out == nil {
		out = position{}
	}
	for _, g := range o {
		out.add(g)
	}
	return out
}

// minPosition is the position every one of ps includes: per domain, the
// earliest; a domain missing from one of them is missing from it.
func minPosition(ps []position) position {
	if len(ps) == 0 {
		return position{}
	}
	out := ps[0].clone()
	for _, p := range ps[1:] {
		for d, g := range out {
			o, ok := p[d]
			switch {
			case !ok:
				delete(out, d)
			case o.seq < g.seq:
				out[d] = o
			}
		}
	}
	return out
}

// String writes p as MariaDB does, domains in order.
func (p position) String() string {
	parts := make([]string, 0, len(p))
	for _, d := range slices.Sorted(maps.Keys(p)) {
		parts = append(parts, p[d].String())
	}
	return strings.Join(parts, ",")
}
