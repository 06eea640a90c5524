package engine

import (
	"context"
	"encoding/hex"
	"errors"
	"strconv"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/shardgate/shardgate/sqlerror"
	"github.com/shardgate/shardgate/vindex"
)

// LookupVindex is a lookup vindex as plans use it: its lookup table (rows
// `from` value → `to` keyspace id), how to reach the shard holding a
// value's rows, and the owner column it indexes. Every read and write of
// the lookup table goes through the VCursor like any shard query, so it
// joins the session's transaction (reads see the transaction's own
// writes; owned writes commit or roll back with the owner's rows).
type LookupVindex struct {
	Vindex *vindex.Lookup
	// Keyspace and Table locate the lookup table; Sharded says whether its
	// keyspace is, and then TableVindex (its primary vindex, on From)
	// places its rows.
	Keyspace, Table string
	Sharded         bool
	TableVindex     vindex.Functional
	// OwnerKeyspace, OwnerTable and OwnerColumn are the indexed column, for
	// the consistent types' check that a duplicate's owner row exists.
	OwnerKeyspace, OwnerTable, OwnerColumn string
}

// lookupValue is one value of the indexed column: its SQL literal and,
// for placing it on a sharded lookup table, its Go value.
type lookupValue struct {
	sql string
	val any
}

// lookupRow is one lookup table row: a value and its row's keyspace id.
type lookupRow struct {
	lookupValue
	ksid vindex.KeyspaceID
}

// place groups values by the lookup table shard their rows live on.
func (l *LookupVindex) place(ctx context.Context, vc VCursor, vals []lookupValue) (shards []string, groups [][]int, err error) {
	ss, err := vc.Shards(ctx, l.Keyspace)
	if err != nil {
		return nil, nil, err
	}
	if len(ss) == 0 {
		return nil, nil, errNoShards(l.Keyspace)
	}
	if !l.Sharded {
		all := make([]int, len(vals))
		for i := range vals {
			all[i] = i
		}
		return []string{ss[0].Name}, [][]int{all}, nil
	}
	r := Routing{Keyspace: l.Keyspace, Vindex: l.TableVindex}
	at := make(map[int]int) // shard index → group
	for i, v := range vals {
		id, ok, err := r.mapValue(Value{Param: -1, Val: v.val, Mappable: true}, nil)
		if err != nil {
			return nil, nil, err
		}
		if !ok {
			return nil, nil, errUnplaceable
		}
		s, err := shardFor(ss, id, l.Keyspace)
		if err != nil {
			return nil, nil, err
		}
		g, seen := at[s]
		if !seen {
			g = len(shards)
			at[s] = g
			shards = append(shards, ss[s].Name)
			groups = append(groups, nil)
		}
		groups[g] = append(groups[g], i)
	}
	return shards, groups, nil
}

// errUnplaceable: the lookup table's vindex cannot map a value (e.g. a
// float for xxhash), so no one shard holds its rows.
var errUnplaceable = errors.New("engine: lookup value has no shard")

// placeRows is place for the values of lookup rows, which must each have
// a shard to be written to.
func (l *LookupVindex) placeRows(ctx context.Context, vc VCursor, rows []lookupRow) ([]string, [][]int, error) {
	vals := make([]lookupValue, len(rows))
	for i, r := range rows {
		vals[i] = r.lookupValue
	}
	shards, groups, err := l.place(ctx, vc, vals)
	if errors.Is(err, errUnplaceable) {
		return nil, nil, refusedf("lookup vindex %s: the vindex of lookup table %s.%s cannot place a value of this statement on a shard", l.Vindex.Name(), l.Keyspace, l.Table)
	}
	return shards, groups, err
}

// keyspaceIDs reads the keyspace ids the lookup table holds for vals.
func (l *LookupVindex) keyspaceIDs(ctx context.Context, vc VCursor, vals []lookupValue) ([]vindex.KeyspaceID, error) {
	if len(vals) == 0 {
		return nil, nil
	}
	shards, groups, err := l.place(ctx, vc, vals)
	if errors.Is(err, errUnplaceable) {
		// Look on every shard of the lookup table.
		ss, _ := vc.Shards(ctx, l.Keyspace)
		all := make([]int, len(vals))
		for i := range vals {
			all[i] = i
		}
		shards, groups = nil, nil
		for _, sh := range ss {
			shards, groups = append(shards, sh.Name), append(groups, all)
		}
	} else if err != nil {
		return nil, err
	}
	qs := make([]string, len(shards))
	for i, g := range groups {
		b := []byte("select " + QuoteIdent(l.Vindex.To()) + " from " + QuoteIdent(l.Table) + " where " + QuoteIdent(l.Vindex.From()) + " in (")
		for j, at := range g {
			if j > 0 {
				b = append(b, ", "...)
			}
			b = append(b, vals[at].sql...)
		}
		qs[i] = string(append(b, ')'))
	}
	rs, err := vc.ExecuteMulti(ctx, l.Keyspace, shards, qs)
	if err != nil {
		return nil, err
	}
	var ids []vindex.KeyspaceID
	for _, r := range rs {
		for _, row := range r.Rows {
			if len(row) == 1 && row[0] != nil {
				ids = append(ids, vindex.KeyspaceID(append([]byte(nil), row[0]...)))
			}
		}
	}
	return ids, nil
}

// rounds runs per-shard lists of statements on the lookup table: the
// shards in parallel, each shard's statements one after the other.
func (l *LookupVindex) rounds(ctx context.Context, vc VCursor, shards []string, perShard [][]string) error {
	for round := 0; ; round++ {
		var ss, qs []string
		for i, list := range perShard {
			if round < len(list) {
				ss = append(ss, shards[i])
				qs = append(qs, list[round])
			}
		}
		if len(ss) == 0 {
			return nil
		}
		if _, err := vc.ExecuteMulti(ctx, l.Keyspace, ss, qs); err != nil {
			return err
		}
	}
}

// ksidLiteral renders a keyspace id for the `to` column.
func ksidLiteral(id vindex.KeyspaceID) string {
	if len(id) == 0 {
		return "''"
	}
	return "0x" + hex.EncodeToString(id)
}

// insert writes one lookup row per row, one statement per lookup shard.
// A duplicate (MySQL error 1062 from the lookup table's unique key) fails
// the write. consistent_lookup_unique first clears the way (clearOrphans):
// a lookup row left over from a failure, whose owner row does not exist,
// is removed; one whose owner exists is a duplicate.
func (l *LookupVindex) insert(ctx context.Context, vc VCursor, rows []lookupRow) error {
	if len(rows) == 0 {
		return nil
	}
	shards, groups, err := l.placeRows(ctx, vc, rows)
	if err != nil {
		return err
	}
	if l.Vindex.Consistent() && l.Vindex.IsUnique() {
		if err := l.clearOrphans(ctx, vc, rows, shards, groups); err != nil {
			return err
		}
	}
	head := "insert into " + QuoteIdent(l.Table) + " (" + QuoteIdent(l.Vindex.From()) + ", " + QuoteIdent(l.Vindex.To()) + ") values "
	qs := make([]string, len(shards))
	for i, g := range groups {
		b := []byte(head)
		for j, at := range g {
			if j > 0 {
				b = append(b, ", "...)
			}
			b = append(b, '(')
			b = append(b, rows[at].sql...)
			b = append(b, ", "...)
			b = append(b, ksidLiteral(rows[at].ksid)...)
			b = append(b, ')')
		}
		qs[i] = string(b)
	}
	_, err = vc.ExecuteMulti(ctx, l.Keyspace, shards, qs)
	return err
}

// clearOrphans reads, locking them, the lookup rows that already hold the
// values about to be written (before anything of this statement is
// written, so none of them is its own). For each, it looks for the owner
// row the lookup row names (an owner row holding the value, on the shard
// of that keyspace id): if there is one, the write is a duplicate key
// (1062); if not, the lookup row is left over from a failure (or written
// by hand) and is deleted, so the new row takes the value over.
func (l *LookupVindex) clearOrphans(ctx context.Context, vc VCursor, rows []lookupRow, shards []string, groups [][]int) error {
	from, to := QuoteIdent(l.Vindex.From()), QuoteIdent(l.Vindex.To())
	qs := make([]string, len(shards))
	for i, g := range groups {
		b := []byte("select " + from + ", " + to + " from " + QuoteIdent(l.Table) + " where " + from + " in (")
		for j, at := range g {
			if j > 0 {
				b = append(b, ", "...)
			}
			b = append(b, rows[at].sql...)
		}
		qs[i] = string(append(b, ") for update"...))
	}
	rs, err := vc.ExecuteMulti(ctx, l.Keyspace, shards, qs)
	if err != nil {
		return err
	}
	ss, err := vc.Shards(ctx, l.OwnerKeyspace)
	if err != nil {
		return err
	}
	perShard := make([][]string, len(shards))
	for i, r := range rs {
		for _, existing := range r.Rows {
			if len(existing) != 2 || existing[0] == nil || existing[1] == nil {
				continue
			}
			value := string(appendColumnLiteral(nil, r.Fields[0], existing[0]))
			s, err := shardFor(ss, vindex.KeyspaceID(existing[1]), l.OwnerKeyspace)
			if err != nil {
				return err
			}
			owner, err := vc.ExecuteMulti(ctx, l.OwnerKeyspace, []string{ss[s].Name}, []string{
				"select 1 from " + QuoteIdent(l.OwnerTable) + " where " + QuoteIdent(l.OwnerColumn) + " = " + value + " limit 1 for update"})
			if err != nil {
				return err
			}
			if len(owner[0].Rows) > 0 {
				return errDuplicateLookup(QuoteString(string(existing[0])), l.Vindex.Name())
			}
			perShard[i] = append(perShard[i], "delete from "+QuoteIdent(l.Table)+" where "+from+" = "+value+" and "+to+" = "+ksidLiteral(vindex.KeyspaceID(existing[1])))
		}
	}
	return l.rounds(ctx, vc, shards, perShard)
}

// delete removes one lookup row per row (a value held by several owner
// rows of one keyspace id has that many lookup rows). A unique lookup's
// rows go in one statement per shard; a non-unique one's take one
// statement per distinct (value, keyspace id), limited to its count.
func (l *LookupVindex) delete(ctx context.Context, vc VCursor, rows []lookupRow) error {
	if len(rows) == 0 {
		return nil
	}
	shards, groups, err := l.placeRows(ctx, vc, rows)
	if err != nil {
		return err
	}
	from, to := QuoteIdent(l.Vindex.From()), QuoteIdent(l.Vindex.To())
	head := "delete from " + QuoteIdent(l.Table) + " where "
	perShard := make([][]string, len(shards))
	for i, g := range groups {
		if l.Vindex.IsUnique() {
			b := []byte(head + "(" + from + ", " + to + ") in (")
			for j, at := range g {
				if j > 0 {
					b = append(b, ", "...)
				}
				b = append(b, "("+rows[at].sql+", "+ksidLiteral(rows[at].ksid)+")"...)
			}
			perShard[i] = []string{string(append(b, ')'))}
			continue
		}
		count := map[string]int{}
		var order []string
		for _, at := range g {
			cond := from + " = " + rows[at].sql + " and " + to + " = " + ksidLiteral(rows[at].ksid)
			if count[cond] == 0 {
				order = append(order, cond)
			}
			count[cond]++
		}
		for _, cond := range order {
			perShard[i] = append(perShard[i], head+cond+" limit "+strconv.Itoa(count[cond]))
		}
	}
	return l.rounds(ctx, vc, shards, perShard)
}

func errDuplicateLookup(value, vindexName string) error {
	return sqlerror.New(sqlerror.User, mysql.ER_DUP_ENTRY, "Duplicate entry %s for key '%s'", value, vindexName)
}

func (l *LookupVindex) String() string { return l.Vindex.Name() }

// lookupValueOf is a literal or argument as a lookup value; ok is false
// for NULL, which no lookup row holds.
func lookupValueOf(v Value, args []any) (lookupValue, bool, error) {
	val, _, err := v.resolve(args)
	if err != nil {
		return lookupValue{}, false, err
	}
	if v.Param < 0 {
		if v.Val == nil && v.SQL == "null" {
			return lookupValue{}, false, nil
		}
		if !v.Mappable {
			val = v.SQL
		}
		return lookupValue{sql: v.SQL, val: val}, true, nil
	}
	if val == nil && args[v.Param] == nil {
		return lookupValue{}, false, nil
	}
	b, err := v.appendSQL(nil, args)
	if err != nil {
		return lookupValue{}, false, err
	}
	return lookupValue{sql: string(b), val: val}, true, nil
}

// columnLookupValue is a value read from a shard row as a lookup value;
// ok is false for NULL.
func columnLookupValue(f *mysql.Field, v []byte) (lookupValue, bool) {
	if v == nil {
		return lookupValue{}, false
	}
	return lookupValue{sql: string(appendColumnLiteral(nil, f, v)), val: v}, true
}

// appendColumnLiteral renders a text-protocol column value as a literal
// that compares and converts back to the same value.
func appendColumnLiteral(b []byte, f *mysql.Field, v []byte) []byte {
	switch {
	case v == nil:
		return append(b, "NULL"...)
	case f.Charset == binaryCharset:
		// Binary strings, numbers and temporals: byte for byte; the column
		// converts the string as MySQL does.
		return appendQuoted(append(b, "_binary"...), string(v))
	default:
		return appendQuoted(b, string(v))
	}
}
