package topo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"slices"
	"strconv"

	"github.com/shardgate/shardgate/vindex"
)

// TabletType is a tablet's role in its shard.
type TabletType string

// The tablet types. The gateway writes only to the primary the shard names.
const (
	TabletPrimary TabletType = "primary"
	TabletReplica TabletType = "replica"
	// TabletDrained serves nothing: failover gives this type to the
	// primary it replaces, so that no gateway writes to (or reads from)
	// it even if it comes back, until it is fenced (read-only, a replica
	// of the new primary) and becomes a replica again. It is not a
	// serving type: the serving graph has no partition for it.
	TabletDrained TabletType = "drained"
)

// TabletTypes lists the serving tablet types, primary first.
func TabletTypes() []TabletType {
	return []TabletType{TabletPrimary, TabletReplica}
}

// ParseTabletType accepts "primary", "replica" and "drained".
func ParseTabletType(s string) (TabletType, error) {
	t := TabletType(s)
	if !slices.Contains(TabletTypes(), t) && t != TabletDrained {
		return "", fmt.Errorf("tablet type %q: want primary, replica or drained: %w", s, ErrInvalid)
	}
	return t, nil
}

// Keyspace is a logical database: one MySQL schema spread over its shards.
type Keyspace struct {
	Name    string `json:"name"`
	Sharded bool   `json:"sharded,omitempty"`
}

// Shard is one key range of a keyspace, served by one primary and its
// replicas.
type Shard struct {
	Keyspace string
	// Name is the key range in hex ("-80", "80-"), or "0" for an
	// unsharded keyspace's single shard.
	Name string
	// KeyRange is parsed from Name; in JSON it is written as its name.
	KeyRange vindex.KeyRange
	// PrimaryAlias is the tablet that takes writes, nil while none is
	// chosen.
	PrimaryAlias *TabletAlias
	// Serving says whether the shard is in the serving graph: CreateShard
	// sets it when the new shard overlaps no existing one, so a resharding
	// workflow can create its target shards without them taking traffic.
	Serving bool
}

type shardJSON struct {
	Keyspace     string       `json:"keyspace"`
	Name         string       `json:"name"`
	KeyRange     string       `json:"key_range"`
	PrimaryAlias *TabletAlias `json:"primary_alias,omitempty"`
	Serving      bool         `json:"serving,omitempty"`
}

// MarshalJSON writes the key range as its shard-name string ("-80").
func (s Shard) MarshalJSON() ([]byte, error) {
	return json.Marshal(shardJSON{
		Keyspace:     s.Keyspace,
		Name:         s.Name,
		KeyRange:     s.KeyRange.String(),
		PrimaryAlias: s.PrimaryAlias,
		Serving:      s.Serving,
	})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (s *Shard) UnmarshalJSON(b []byte) error {
	var j shardJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	kr, err := vindex.ParseKeyRange(j.KeyRange)
	if err != nil {
		return fmt.Errorf("shard %s/%s: %w", j.Keyspace, j.Name, err)
	}
	*s = Shard{Keyspace: j.Keyspace, Name: j.Name, KeyRange: kr, PrimaryAlias: j.PrimaryAlias, Serving: j.Serving}
	return nil
}

// shardKeyRange checks a shard name and returns its key range. Names are
// canonical: lower-case hex as vindex.KeyRange.String writes it, or "0"
// for the whole keyspace.
func shardKeyRange(name string) (vindex.KeyRange, error) {
	if name == "" {
		return vindex.KeyRange{}, fmt.Errorf("shard name is empty: %w", ErrInvalid)
	}
	kr, err := vindex.ParseKeyRange(name)
	if err != nil {
		return vindex.KeyRange{}, fmt.Errorf("shard name %q: %w", name, err)
	}
	if name != "0" && kr.String() != name {
		return vindex.KeyRange{}, fmt.Errorf("shard name %q: write it as %q: %w", name, kr.String(), ErrInvalid)
	}
	return kr, nil
}

// sortShards orders shards by key range: by start, then by end with an
// unbounded end last.
func sortShards(shards []*Shard) {
	slices.SortFunc(shards, func(a, b *Shard) int {
		if c := bytes.Compare(a.KeyRange.Start, b.KeyRange.Start); c != 0 {
			return c
		}
		ae, be := a.KeyRange.End, b.KeyRange.End
		switch {
		case len(ae) == 0 && len(be) == 0:
			return 0
		case len(ae) == 0:
			return 1
		case len(be) == 0:
			return -1
		}
		return bytes.Compare(ae, be)
	})
}

// Tablet is one MySQL instance serving a shard.
type Tablet struct {
	Alias    TabletAlias `json:"alias"`
	Keyspace string      `json:"keyspace"`
	Shard    string      `json:"shard"`
	Type     TabletType  `json:"type"`
	// Host and Port are where MySQL listens.
	Host string `json:"host"`
	Port int    `json:"port"`
}

// Addr returns the MySQL address, host:port.
func (t *Tablet) Addr() string {
	return net.JoinHostPort(t.Host, strconv.Itoa(t.Port))
}

func (t *Tablet) validate() error {
	if err := checkName("cell", t.Alias.Cell); err != nil {
		return fmt.Errorf("tablet %s: %w", t.Alias, err)
	}
	if _, err := ParseTabletType(string(t.Type)); err != nil {
		return fmt.Errorf("tablet %s: %w", t.Alias, err)
	}
	if t.Host == "" || t.Port < 1 || t.Port > 65535 {
		return fmt.Errorf("tablet %s: address %q: want a host and a port in 1..65535: %w", t.Alias, t.Addr(), ErrInvalid)
	}
	return nil
}

// SrvKeyspace is the serving graph of a keyspace: which shards serve it,
// per tablet type. Routing always goes through it, never through the list
// of shards, so that resharding can switch traffic by rewriting it.
// During a resharding, ReadSwitch names, beside Partitions, a second set
// of shards and the share of reads sent to it (canary traffic); a reader
// that doesn't know that field keeps routing to Partitions, which stays
// correct.
type SrvKeyspace struct {
	Name    string `json:"name"`
	Sharded bool   `json:"sharded,omitempty"`
	// Partitions maps a tablet type to the names of the shards serving
	// it, in key order; together they cover the keyspace once.
	Partitions map[TabletType][]string `json:"partitions,omitempty"`
	// ReadSwitch, when set, sends a share of the keyspace's reads outside
	// transactions to another set of shards (read_switch.go).
	ReadSwitch *ReadSwitch `json:"read_switch,omitempty"`
}
