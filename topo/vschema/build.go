package vschema

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/shardgate/shardgate/vindex"
)

// Lookup errors of VSchema.FindTable.
var (
	ErrKeyspaceNotFound = errors.New("vschema: keyspace not found")
	ErrTableNotFound    = errors.New("vschema: table not found")
	ErrAmbiguousTable   = errors.New("vschema: table is in more than one keyspace")
)

// VSchema is every keyspace's vschema compiled for routing. It is
// immutable once built and safe for concurrent use.
type VSchema struct {
	Keyspaces map[string]*KeyspaceSchema
	// RoutingRules by from_table (routing_rules.go); nil without rules.
	RoutingRules map[string]*RoutingRule
	// readShares are the distinct read shares of RoutingRules.
	readShares []int
}

// KeyspaceSchema is one compiled keyspace.
type KeyspaceSchema struct {
	Name     string
	Sharded  bool
	Tables   map[string]*TableSchema
	Vindexes map[string]vindex.Vindex
	// Raw is the vschema it was built from.
	Raw *Keyspace
}

// TableSchema is one compiled table.
type TableSchema struct {
	Name, Keyspace string
	// Type is "", TypeSequence or TypeReference.
	Type string
	// ColumnVindexes[0] is the primary vindex; empty for tables of
	// unsharded keyspaces and for reference and sequence tables.
	ColumnVindexes []*ColumnVindexSchema
	AutoIncrement  *AutoIncrement
	// Sequence is the sequence table AutoIncrement names, resolved.
	Sequence *TableSchema
}

// ColumnVindexSchema is a vindex applied to columns of a table.
type ColumnVindexSchema struct {
	Columns []string
	Name    string
	Vindex  vindex.Vindex
	// Owned is set when the table is the vindex's owner: its inserts,
	// updates and deletes keep the lookup rows in step.
	Owned bool
	// LookupKeyspace and LookupTable locate a lookup vindex's table.
	LookupKeyspace, LookupTable string
}

// Build compiles the vschemas of all keyspaces, keyed by keyspace name.
// Each must Validate; in addition, auto_increment sequences must name a
// sequence table ("table" unique across keyspaces, or "keyspace.table"),
// and a reference table's source must name an existing keyspace.
func Build(keyspaces map[string]*Keyspace) (*VSchema, error) {
	vs := &VSchema{Keyspaces: make(map[string]*KeyspaceSchema, len(keyspaces))}
	for _, name := range slices.Sorted(maps.Keys(keyspaces)) {
		k := keyspaces[name]
		if k == nil {
			return nil, fmt.Errorf("keyspace %q: vschema is null: %w", name, ErrInvalid)
		}
		ks, err := buildKeyspace(name, k)
		if err != nil {
			return nil, fmt.Errorf("keyspace %q: %w", name, err)
		}
		vs.Keyspaces[name] = ks
	}
	var problems []error
	for _, ksName := range slices.Sorted(maps.Keys(vs.Keyspaces)) {
		ks := vs.Keyspaces[ksName]
		for _, tName := range slices.Sorted(maps.Keys(ks.Tables)) {
			t := ks.Tables[tName]
			if t.AutoIncrement != nil {
				seq, err := vs.findSequence(t.AutoIncrement.Sequence)
				if err != nil {
					problems = append(problems, fmt.Errorf("keyspace %q table %q auto_increment: %w", ksName, tName, err))
				}
				t.Sequence = seq
			}
			for _, cv := range t.ColumnVindexes {
				if err := vs.checkLookupTable(cv); err != nil {
					problems = append(problems, fmt.Errorf("keyspace %q table %q vindex %q: %w", ksName, tName, cv.Name, err))
				}
			}
			if src := ks.Raw.Tables[tName].Source; src != "" {
				srcKs, _, _ := strings.Cut(src, ".")
				if vs.Keyspaces[srcKs] == nil {
					problems = append(problems, fmt.Errorf("keyspace %q reference table %q: source %q names unknown keyspace %q", ksName, tName, src, srcKs))
				}
			}
		}
	}
	if len(problems) > 0 {
		return nil, &ValidationError{Problems: problems}
	}
	return vs, nil
}

func buildKeyspace(name string, k *Keyspace) (*KeyspaceSchema, error) {
	vxs, problems := k.vindexes()
	problems = append(problems, k.checkTables(vxs)...)
	if len(problems) > 0 {
		return nil, &ValidationError{Problems: problems}
	}
	ks := &KeyspaceSchema{
		Name:     name,
		Sharded:  k.Sharded,
		Tables:   make(map[string]*TableSchema, len(k.Tables)),
		Vindexes: vxs,
		Raw:      k,
	}
	for tName, t := range k.Tables {
		ts := &TableSchema{Name: tName, Keyspace: name, Type: t.Type, AutoIncrement: t.AutoIncrement}
		for _, cv := range t.ColumnVindexes {
			cvs := &ColumnVindexSchema{
				Columns: slices.Clone(cv.columns()),
				Name:    cv.Name,
				Vindex:  vxs[cv.Name],
				Owned:   k.Vindexes[cv.Name].Owner == tName,
			}
			if l, ok := cvs.Vindex.(*vindex.Lookup); ok {
				cvs.LookupKeyspace, cvs.LookupTable = name, l.Table()
				if ks, tbl, ok := strings.Cut(l.Table(), "."); ok {
					cvs.LookupKeyspace, cvs.LookupTable = ks, tbl
				}
			}
			ts.ColumnVindexes = append(ts.ColumnVindexes, cvs)
		}
		ks.Tables[tName] = ts
	}
	return ks, nil
}

// checkLookupTable checks that a lookup vindex's table can be reached: its
// keyspace exists and, if sharded, declares the table with a primary
// vindex on the `from` column (so lookups and lookup writes go to one
// shard per value).
func (v *VSchema) checkLookupTable(cv *ColumnVindexSchema) error {
	l, ok := cv.Vindex.(*vindex.Lookup)
	if !ok {
		return nil
	}
	ks := v.Keyspaces[cv.LookupKeyspace]
	if ks == nil {
		return fmt.Errorf("lookup table %q names unknown keyspace %q", l.Table(), cv.LookupKeyspace)
	}
	if !ks.Sharded {
		return nil
	}
	t := ks.Tables[cv.LookupTable]
	if t == nil {
		return fmt.Errorf("lookup table %q is not a table of sharded keyspace %q", l.Table(), ks.Name)
	}
	if t.Type != "" || len(t.ColumnVindexes) == 0 || len(t.ColumnVindexes[0].Columns) != 1 || t.ColumnVindexes[0].Columns[0] != l.From() {
		return fmt.Errorf("lookup table %q in sharded keyspace %q must have its primary vindex on column %q", l.Table(), ks.Name, l.From())
	}
	if _, ok := t.ColumnVindexes[0].Vindex.(vindex.Functional); !ok {
		return fmt.Errorf("lookup table %q's primary vindex must be functional", l.Table())
	}
	return nil
}

// findSequence resolves an auto_increment sequence name.
func (v *VSchema) findSequence(name string) (*TableSchema, error) {
	var t *TableSchema
	if ksName, tName, ok := strings.Cut(name, "."); ok {
		ks := v.Keyspaces[ksName]
		if ks == nil {
			return nil, fmt.Errorf("sequence %q names unknown keyspace %q", name, ksName)
		}
		if t = ks.Tables[tName]; t == nil {
			return nil, fmt.Errorf("sequence %q is not a table of keyspace %q", name, ksName)
		}
	} else {
		var found []string
		for _, ksName := range slices.Sorted(maps.Keys(v.Keyspaces)) {
			if c := v.Keyspaces[ksName].Tables[name]; c != nil && c.Type == TypeSequence {
				t = c
				found = append(found, ksName)
			}
		}
		switch len(found) {
		case 0:
			return nil, fmt.Errorf("sequence %q is not a sequence table of any keyspace", name)
		case 1:
		default:
			return nil, fmt.Errorf("sequence %q is in keyspaces %s; qualify it as keyspace.%s", name, strings.Join(found, ", "), name)
		}
	}
	if t.Type != TypeSequence {
		return nil, fmt.Errorf("sequence %q is not a sequence table (its type is %q)", name, t.Type)
	}
	return t, nil
}

// FindTable returns a table. Names match exactly, as MySQL on Linux
// matches table names. In an unsharded keyspace every table is routable,
// declared or not; an undeclared one comes back with no vindexes. With an
// empty keyspace, FindTable looks for a table declared in exactly one
// keyspace. Errors wrap ErrKeyspaceNotFound, ErrTableNotFound or
// ErrAmbiguousTable.
func (v *VSchema) FindTable(keyspace, table string) (*TableSchema, error) {
	if keyspace == "" {
		var found []*TableSchema
		for _, ksName := range slices.Sorted(maps.Keys(v.Keyspaces)) {
			if t := v.Keyspaces[ksName].Tables[table]; t != nil {
				found = append(found, t)
			}
		}
		switch len(found) {
		case 0:
			return nil, fmt.Errorf("table %q: %w", table, ErrTableNotFound)
		case 1:
			return found[0], nil
		default:
			names := make([]string, len(found))
			for i, t := range found {
				names[i] = t.Keyspace
			}
			return nil, fmt.Errorf("table %q is in keyspaces %s: %w", table, strings.Join(names, ", "), ErrAmbiguousTable)
		}
	}
	ks := v.Keyspaces[keyspace]
	if ks == nil {
		return nil, fmt.Errorf("keyspace %q: %w", keyspace, ErrKeyspaceNotFound)
	}
	if t := ks.Tables[table]; t != nil {
		return t, nil
	}
	if !ks.Sharded {
		return &TableSchema{Name: table, Keyspace: keyspace}, nil
	}
	return nil, fmt.Errorf("table %q in keyspace %q: %w", table, keyspace, ErrTableNotFound)
}
