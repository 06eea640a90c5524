package failover

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Position is a MariaDB GTID position ("0-101-42,1-102-7"): per
// replication domain, the sequence number of the last transaction. With
// gtid_strict_mode sequence numbers grow within a domain whatever server
// wrote them, so positions compare domain by domain.
type Position map[uint32]uint64

// ParsePosition parses a GTID position as MariaDB writes it ("" is the
// empty position).
func ParsePosition(s string) (Position, error) {
	p := Position{}
	for _, g := range strings.Split(s, ",") {
		g = strings.TrimSpace(g)
		if g == "" {
			continue
		}
		parts := strings.Split(g, "-")
		if len(parts) != 3 {
			return nil, fmt.Errorf("failover: GTID %q: want domain-server-sequence", g)
		}
		domain, err := strconv.ParseUint(parts[0], 10, 32)
		if err != nil {
			return nil, fmt.Errorf("failover: GTID %q: domain: %w", g, err)
		}
		if _, err := strconv.ParseUint(parts[1], 10, 32); err != nil {
			return nil, fmt.Errorf("failover: GTID %q: server id: %w", g, err)
		}
		seq, err := strconv.ParseUint(parts[2], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("failover: GTID %q: sequence: %w", g, err)
		}
		p[uint32(domain)] = max(p[uint32(domain)], seq)
	}
	return p, nil
}

// Merge returns, per domain, the later of p and o.
func (p Position) Merge(o Position) Position {
	out := maps.Clone(p)
	if out == nil {
		out = Position{}
	}
	for d, seq := range o {
		out[d] = max(out[d], seq)
	}
	return out
}

// Covers tells whether p has everything o has: in every domain of o, p is
// at least as far.
func (p Position) Covers(o Position) bool {
	for d, seq := range o {
		if p[d] < seq {
			return false
		}
	}
	return true
}

// total is the sum of the sequence numbers: the tie-break between
// positions neither of which covers the other.
func (p Position) total() uint64 {
	var n uint64
	for _, seq := range p {
		n += seq
	}
	return n
}

// String writes the position as "domain-seq" pairs in domain order (the
// server ids are not kept: they don't matter for comparing).
func (p Position) String() string {
	domains := slices.Sorted(maps.Keys(p))
	parts := make([]string, len(domains))
	for i, d := range domains {
		parts[i] = fmt.Sprintf("%d-*-%d", d, p[d])
	}
	return strings.Join(parts, ",")
}

// mostAdvanced returns the index of the position that covers all the
// others; if none does (the replicas diverged, which strict mode and one
// writer should prevent), the one with the highest total. Ties go to the
// first. -1 for an empty list.
func mostAdvanced(ps []Position) int {
	best := -1
	for i, p := range ps {
		coversAll := true
		for j, o := range ps {
			if i != j && !p.Covers(o) {
				coversAll = false
				break
			}
		}
		if coversAll {
			return i
		}
		if best < 0 || p.total() > ps[best].total() {
			best = i
		}
	}
	return best
}
