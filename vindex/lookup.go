package vindex

import (
	"fmt"
	"strings"
)

var _ Vindex = (*Lookup)(nil)

// Lookup is one of Vitess's lookup vindex types: lookup_unique, lookup,
// consistent_lookup_unique and consistent_lookup. A lookup table row maps a
// value of the `from` column to the keyspace id (in the `to` column) of the
// row holding it. Lookup only describes the table; the gateway reads and
// writes it (this package does no I/O).
//
// Params: "table" (the lookup table, "keyspace.table" or "table" in the
// vindex's own keyspace), "from" (one column) and "to" (a VARBINARY column
// holding keyspace ids) and, as in Vitess, "write_only": "true" while the
// table is being backfilled: its rows are kept up to date but queries are
// not routed by it (it may not hold every value yet). Other params
// (Vitess's autocommit, ignore_nulls, batch_lookup, ...) are accepted and
// ignored, as for the other types: lookup rows are always written in the
// owner's transaction and a NULL value never gets a lookup row.
type Lookup struct {
	name, typ  string
	unique     bool
	consistent bool
	table      string
	from, to   string
	writeOnly  bool
}

func newLookup(unique, consistent bool) constructor {
	return func(name string, params map[string]string) (Vindex, error) {
		typ := "lookup"
		if consistent {
			typ = "consistent_lookup"
		}
		if unique {
			typ += "_unique"
		}
		l := &Lookup{name: name, typ: typ, unique: unique, consistent: consistent,
			table: params["table"], from: strings.TrimSpace(params["from"]), to: strings.TrimSpace(params["to"]),
			writeOnly: params["write_only"] == "true"}
		var missing []string
		for _, p := range []struct{ key, val string }{{"table", l.table}, {"from", l.from}, {"to", l.to}} {
			if p.val == "" {
				missing = append(missing, p.key)
			}
		}
		if len(missing) > 0 {
			return nil, fmt.Errorf("vindex %q (%s): missing params %s", name, typ, strings.Join(missing, ", "))
		}
		if strings.Contains(l.from, ",") {
			return nil, fmt.Errorf("vindex %q (%s): from %q names several columns; only one-column lookups are supported", name, typ, l.from)
		}
		return l, nil
	}
}

// Name returns the vschema name of the vindex.
func (l *Lookup) Name() string { return l.name }

// Type returns the vindex type, e.g. "lookup_unique".
func (l *Lookup) Type() string { return l.typ }

// Cost returns Vitess's costs: 10 for a unique lookup, 20 for a
// non-unique one (one query on the lookup table, then the rows' shards).
func (l *Lookup) Cost() int {
	if l.unique {
		return 10
	}
	return 20
}

// IsUnique reports whether a value has at most one lookup row.
func (l *Lookup) IsUnique() bool { return l.unique }

// Consistent reports whether the vindex is a consistent_lookup type. For
// consistent_lookup_unique, a lookup row whose owner row no longer exists
// is taken over by a new owner of the value instead of failing the
// insert; consistent_lookup (non-unique) keeps one row per owner row, as
// lookup does, so it has no duplicates to take over.
func (l *Lookup) Consistent() bool { return l.consistent }

// WriteOnly reports whether the lookup table is only written, not used
// for routing (Vitess's write_only, while it is backfilled).
func (l *Lookup) WriteOnly() bool { return l.writeOnly }

// Table returns the lookup table as the vschema names it.
func (l *Lookup) Table() string { return l.table }

// From returns the lookup table's column holding the looked-up value.
func (l *Lookup) From() string { return l.from }

// To returns the lookup table's column holding the keyspace id.
func (l *Lookup) To() string { return l.to }
