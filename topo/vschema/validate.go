package vschema

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/shardgate/shardgate/vindex"
)

// ErrInvalid is wrapped by every error of Validate, Parse and Build about
// a vschema's content.
var ErrInvalid = errors.New("vschema: invalid")

// ValidationError lists everything wrong with a vschema, each problem
// naming the vindex or table at fault. errors.Is matches ErrInvalid and
// the sentinels the problems wrap (vindex.ErrUnknownType).
type ValidationError struct {
	Problems []error
}

func (e *ValidationError) Error() string {
	msgs := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		msgs[i] = p.Error()
	}
	return "invalid vschema: " + strings.Join(msgs, "; ")
}

// Unwrap returns ErrInvalid and the problems.
func (e *ValidationError) Unwrap() []error {
	return append([]error{ErrInvalid}, e.Problems...)
}

// problem is an error whose message says it all but that still wraps the
// error it stems from, for errors.Is.
type problem struct {
	msg string
	err error
}

func (p *problem) Error() string { return p.msg }
func (p *problem) Unwrap() error { return p.err }

// Validate checks a keyspace's vschema on its own; Build also checks what
// spans keyspaces (sequences, reference sources). The error, a
// *ValidationError, lists every problem found, in name order.
func (k *Keyspace) Validate() error {
	vxs, problems := k.vindexes()
	problems = append(problems, k.checkTables(vxs)...)
	if len(problems) > 0 {
		return &ValidationError{Problems: problems}
	}
	return nil
}

// vindexes instantiates the keyspace's vindexes, returning those that
// could be built and the problems with the others.
func (k *Keyspace) vindexes() (map[string]vindex.Vindex, []error) {
	var problems []error
	out := make(map[string]vindex.Vindex, len(k.Vindexes))
	for _, name := range slices.Sorted(maps.Keys(k.Vindexes)) {
		def := k.Vindexes[name]
		if def == nil {
			problems = append(problems, fmt.Errorf("vindex %q is null", name))
			continue
		}
		vx, err := vindex.New(def.Type, name, def.Params)
		switch {
		case errors.Is(err, vindex.ErrUnknownType):
			problems = append(problems, &problem{
				msg: fmt.Sprintf("unknown vindex type %q for vindex %q (known types: %s)", def.Type, name, strings.Join(vindex.Types(), ", ")),
				err: err,
			})
		case err != nil:
			problems = append(problems, fmt.Errorf("vindex %q: %w", name, err))
		default:
			out[name] = vx
		}
		if def.Owner != "" && k.Tables[def.Owner] == nil {
			problems = append(problems, fmt.Errorf("vindex %q has owner %q, which is not a table of this keyspace", name, def.Owner))
		} else if _, isLookup := out[name].(*vindex.Lookup); isLookup && def.Owner != "" && !usesVindex(k.Tables[def.Owner], name) {
			// Only lookups use their owner (Vitess ignores it on the others).
			problems = append(problems, fmt.Errorf("lookup vindex %q has owner %q, which does not use it in its column_vindexes", name, def.Owner))
		}
	}
	return out, problems
}

// usesVindex reports whether table t applies the vindex named name.
func usesVindex(t *Table, name string) bool {
	if t == nil {
		return false
	}
	for _, cv := range t.ColumnVindexes {
		if cv != nil && cv.Name == name {
			return true
		}
	}
	return false
}

// checkTables checks the tables; vxs are the vindexes that could be built.
func (k *Keyspace) checkTables(vxs map[string]vindex.Vindex) []error {
	var problems []error
	add := func(format string, args ...any) {
		problems = append(problems, fmt.Errorf(format, args...))
	}
	for _, name := range slices.Sorted(maps.Keys(k.Tables)) {
		t := k.Tables[name]
		if t == nil {
			add("table %q is null", name)
			continue
		}
		switch t.Type {
		case "", TypeSequence, TypeReference:
		default:
			add("table %q has unknown type %q (want %q, %q or none)", name, t.Type, TypeSequence, TypeReference)
		}
		switch {
		case len(t.ColumnVindexes) == 0:
			if k.Sharded && t.Type == "" {
				add("sharded table %q has no primary vindex (column_vindexes is empty)", name)
			}
		case !k.Sharded:
			add("table %q has column vindexes, but the keyspace is unsharded", name)
		case t.Type != "":
			add("%s table %q must not have column vindexes", t.Type, name)
		}
		if t.Type == TypeSequence && k.Sharded {
			add("sequence table %q must be in an unsharded keyspace", name)
		}
		if t.Source != "" {
			if t.Type != TypeReference {
				add("table %q has a source but is not a reference table", name)
			} else if ks, tbl, ok := strings.Cut(t.Source, "."); !ok || ks == "" || tbl == "" {
				add("reference table %q has source %q, want keyspace.table", name, t.Source)
			}
		}

		declared := make(map[string]bool, len(t.Columns))
		for i, c := range t.Columns {
			switch {
			case c == nil || c.Name == "":
				add("table %q declared column %d has no name", name, i)
			case declared[c.Name]:
				add("table %q declares column %q twice", name, c.Name)
			default:
				declared[c.Name] = true
			}
		}
		if t.ColumnListAuthoritative && len(t.Columns) == 0 {
			add("table %q says column_list_authoritative but declares no columns", name)
		}
		checkColumn := func(what, col string) {
			if len(t.Columns) > 0 && !declared[col] {
				add("table %q %s names column %q not in its declared columns", name, what, col)
			}
		}

		for i, cv := range t.ColumnVindexes {
			if cv == nil {
				add("table %q column vindex %d is null", name, i)
				continue
			}
			what := fmt.Sprintf("column vindex %q", cv.Name)
			switch {
			case cv.Column != "" && len(cv.Columns) > 0:
				add("table %q %s sets both column and columns", name, what)
			case len(cv.columns()) == 0:
				add("table %q %s names no column", name, what)
			}
			for _, col := range cv.columns() {
				if col == "" {
					add("table %q %s names an empty column", name, what)
					continue
				}
				checkColumn(what, col)
			}
			def := k.Vindexes[cv.Name]
			if def == nil {
				add("table %q uses undefined vindex %q", name, cv.Name)
				continue
			}
			vx, ok := vxs[cv.Name]
			if !ok {
				continue // reported with the vindex
			}
			if _, ok := vx.(vindex.Functional); ok && len(cv.columns()) > 1 {
				add("table %q %s: vindex type %s takes one column, not %d", name, what, def.Type, len(cv.columns()))
			}
			if i == 0 && !vx.IsUnique() {
				add("table %q primary vindex %q (type %s) must be unique", name, cv.Name, def.Type)
			}
			if _, ok := vx.(*vindex.Lookup); ok && i == 0 && vx.IsUnique() {
				add("table %q primary vindex %q (type %s) must be functional: a lookup cannot place new rows", name, cv.Name, def.Type)
			}
		}

		if ai := t.AutoIncrement; ai != nil {
			if ai.Column == "" {
				add("table %q auto_increment has no column", name)
			} else {
				checkColumn("auto_increment", ai.Column)
			}
			if ai.Sequence == "" {
				add("table %q auto_increment has no sequence", name)
			}
		}
	}
	return problems
}
