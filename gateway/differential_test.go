package gateway_test

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/shardgate/shardgate/topo/vschema"
)

// The differential test: the same generated data is loaded through the
// gateway into the 4-shard keyspace `service` and into the unsharded
// keyspace `global` (one plain MariaDB); every query of
// testdata/differential*.txt must then give the same answer from the
// gateway on `service` as from that MariaDB directly: the same column
// names and types, and the same rows (in order when the query has ORDER
// BY). A query the gateway refuses (1235) counts as refused, never as
// equal, and at most maxRefusedPercent of the queries may be refused.
// A small table dt_city lives only in `global`, for joins across keyspaces.
// In `service`, dt_user is sharded by hash(id), dt_order by hash(user_id),
// dt_item by xxhash(id) (a vindex of another type, so joins with the others
// are never co-located) and dt_ref is a reference table on every shard.
// Then a DML phase applies the same random writes to both sides and
// compares the tables whole (TestDifferentialWrites).

const maxRefusedPercent = 2

var diffSchema = []string{
	"create table dt_user (id bigint not null, name varchar(20), age int, score decimal(8,2), city varchar(12), status_code tinyint, primary key (id))",
	"create table dt_order (user_id bigint not null, id bigint not null, amount int, status varchar(10), primary key (user_id, id))",
	"create table dt_item (id bigint not null, user_id bigint, sku varchar(12), price decimal(8,2), qty int, ref_code int, primary key (id))",
	"create table dt_ref (code int not null, label varchar(12), weight int, primary key (code))",
}

// diffVSchema declares dt_item's xxhash vindex and the reference table
// dt_ref in `service` (dt_user and dt_order take the keyspace's hash
// vindex on their first primary key column when created).
func diffVSchema(t *testing.T) {
	t.Helper()
	err := shared.Get(t).Cluster.Store.UpdateVSchema(context.Background(), "service", func(k *vschema.Keyspace) error {
		if k.Vindexes == nil {
			k.Vindexes = map[string]*vschema.VindexDef{}
		}
		k.Vindexes["dt_xxhash"] = &vschema.VindexDef{Type: "xxhash"}
		if k.Tables == nil {
			k.Tables = map[string]*vschema.Table{}
		}
		k.Tables["dt_item"] = newTable("id", "dt_xxhash")
		k.Tables["dt_ref"] = &vschema.Table{Type: vschema.TypeReference}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// diffData generates rows with NULLs, duplicates and mixed-case strings.
func diffData() (users, orders [][]any) {
	rng := rand.New(rand.NewSource(1))
	names := []string{"alice", "Alice", "ALICE", "bob", "Bob", "carol", "carol ", "dave", "Eve", "eve", "frank", "Zoe", "zoe", "mallory", "ann"}
	cities := []string{"Seoul", "seoul", "Busan", "BUSAN", "Tokyo", "Paris", "oslo"}
	statuses := []string{"paid", "PAID", "open", "Open", "void"}
	null := func(p int, v any) any {
		if rng.Intn(100) < p {
			return nil
		}
		return v
	}
	for id := 1; id <= 200; id++ {
		users = append(users, []any{
			id,
			null(5, names[rng.Intn(len(names))]),
			null(10, 18+rng.Intn(50)),
			null(10, fmt.Sprintf("%d.%02d", rng.Intn(1000), rng.Intn(100))),
			null(15, cities[rng.Intn(len(cities))]),
			null(5, rng.Intn(4)),
		})
	}
	for id := 1; id <= 600; id++ {
		orders = append(orders, []any{
			1 + rng.Intn(60),
			id,
			null(8, rng.Intn(200)),
			null(8, statuses[rng.Intn(len(statuses))]),
		})
	}
	return users, orders
}

// diffMoreData generates dt_item and dt_ref rows.
func diffMoreData() (items, refs [][]any) {
	rng := rand.New(rand.NewSource(2))
	skus := []string{"apple", "Apple", "pear", "PEAR", "plum", "kiwi", "kiwi ", "fig"}
	null := func(p int, v any) any {
		if rng.Intn(100) < p {
			return nil
		}
		return v
	}
	for id := 1; id <= 300; id++ {
		items = append(items, []any{
			id,
			null(5, 1+rng.Intn(220)),
			null(5, skus[rng.Intn(len(skus))]),
			null(8, fmt.Sprintf("%d.%02d", rng.Intn(300), rng.Intn(100))),
			null(8, rng.Intn(20)),
			null(10, rng.Intn(12)),
		})
	}
	labels := []string{"red", "Red", "green", "blue", "BLUE", "gold"}
	for code := 0; code < 10; code++ {
		refs = append(refs, []any{code, null(10, labels[rng.Intn(len(labels))]), null(10, rng.Intn(100))})
	}
	return items, refs
}

func loadRows(t *testing.T, db *sql.DB, table, columns string, rows [][]any) {
	ncols := strings.Count(columns, ",") + 1
	t.Helper()
	marks := "(" + strings.TrimSuffix(strings.Repeat("?, ", ncols), ", ") + ")"
	for start := 0; start < len(rows); start += 50 {
		end := min(start+50, len(rows))
		var args []any
		var tuples []string
		for _, r := range rows[start:end] {
			tuples = append(tuples, marks)
			args = append(args, r...)
		}
		mustExec(t, db, "insert into "+table+" ("+columns+") values "+strings.Join(tuples, ", "), args...)
	}
}

// expandTemplates reads the template file and expands {a|b} alternatives.
func expandTemplates(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, expand(line)...)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func expand(s string) []string {
	i := strings.IndexByte(s, '{')
	if i < 0 {
		return []string{strings.Join(strings.Fields(s), " ")}
	}
	j := strings.IndexByte(s[i:], '}')
	if j < 0 {
		return []string{s}
	}
	var out []string
	for _, alt := range strings.Split(s[i+1:i+j], "|") {
		out = append(out, expand(s[:i]+alt+s[i+j+1:])...)
	}
	return out
}

// answer is a query's result as a user sees it.
type answer struct {
	cols  []string
	types []string
	rows  [][]string
	err   error
}

func ask(db *sql.DB, query string) answer {
	rows, err := db.Query(query)
	if err != nil {
		return answer{err: err}
	}
	defer rows.Close()
	var a answer
	cts, err := rows.ColumnTypes()
	if err != nil {
		return answer{err: err}
	}
	for _, ct := range cts {
		a.cols = append(a.cols, ct.Name())
		typ := ct.DatabaseTypeName()
		if p, s, ok := ct.DecimalSize(); ok {
			typ += fmt.Sprintf("(%d,%d)", p, s)
		}
		a.types = append(a.types, typ)
	}
	for rows.Next() {
		vals := make([]sql.NullString, len(cts))
		ptrs := make([]any, len(cts))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return answer{err: err}
		}
		row := make([]string, len(cts))
		for i, v := range vals {
			row[i] = "NULL"
			if v.Valid {
				row[i] = "'" + v.String + "'"
			}
		}
		a.rows = append(a.rows, row)
	}
	if err := rows.Err(); err != nil {
		return answer{err: err}
	}
	return a
}

func rowsText(rows [][]string, sorted, fold bool) string {
	lines := make([]string, len(rows))
	for i, r := range rows {
		cells := r
		if fold {
			cells = make([]string, len(r))
			for j, c := range r {
				// Also inside a GROUP_CONCAT(DISTINCT ...): any spelling of
				// each element.
				c = strings.NewReplacer(" |", "|", " ,", ",").Replace(c)
				cells[j] = strings.ToLower(strings.TrimRight(strings.TrimSuffix(c, "'"), " "))
			}
		}
		lines[i] = strings.Join(cells, ",")
	}
	if sorted {
		slices.Sort(lines)
	}
	return strings.Join(lines, "\n")
}

// diffSetup creates and loads the differential tables on both sides:
// sharded is the gateway on `service`, plain the `global` shard directly.
func diffSetup(t *testing.T) (sharded, plain *sql.DB) {
	t.Helper()
	diffVSchema(t)
	sharded = shared.db(t, "service", "")
	plainVia := shared.db(t, "global", "")
	// Until the gateway has the new vschema, CREATE TABLE dt_item would
	// give it the keyspace's hash vindex.
	waitFor(t, func() bool {
		var plan string
		err := sharded.QueryRow("vexplain plan select * from dt_item where id = 1").Scan(&plan)
		return err == nil && strings.Contains(plan, "dt_xxhash")
	})
	for _, ddl := range diffSchema {
		mustExec(t, sharded, ddl)
		mustExec(t, plainVia, ddl)
	}
	mustExec(t, plainVia, "create table dt_city (name varchar(12) not null, country varchar(12), code int, primary key (name))")
	mustExec(t, plainVia, "insert into dt_city (name, country, code) values ('seoul', 'KR', 5), ('busan', 'KR', 17), ('tokyo', 'JP', 42), ('paris', 'FR', 99), ('lima', 'PE', 150), ('Oslo', 'NO', null)")
	users, orders := diffData()
	items, refs := diffMoreData()
	for _, db := range []*sql.DB{sharded, plainVia} {
		loadRows(t, db, "dt_user", "id, name, age, score, city, status_code", users)
		loadRows(t, db, "dt_order", "user_id, id, amount, status", orders)
		loadRows(t, db, "dt_item", "id, user_id, sku, price, qty, ref_code", items)
		loadRows(t, db, "dt_ref", "code, label, weight", refs)
	}
	return sharded, shared.shardDB(t, "global", "0")
}

func TestDifferential(t *testing.T) {
	sharded, plain := diffSetup(t)

	// Each area keeps its templates in its own differential*.txt file.
	files, err := filepath.Glob("testdata/differential*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no differential template files: %v", err)
	}
	var queries []string
	for _, f := range files {
		queries = append(queries, expandTemplates(t, f)...)
	}
	if len(queries) < 1000 {
		t.Fatalf("got %d differential queries, want at least 1000", len(queries))
	}
	var equal, folded, refused int
	for _, q := range queries {
		want := ask(plain, q)
		got := ask(sharded, q)
		var me *mysql.MySQLError
		if errors.As(got.err, &me) && me.Number == 1235 {
			refused++
			t.Logf("refused: %s: %v", q, got.err)
			continue
		}
		if want.err != nil || got.err != nil {
			var wme *mysql.MySQLError
			if errors.As(want.err, &wme) && me != nil && wme.Number == me.Number {
				equal++
				continue
			}
			t.Errorf("%s\n got error: %v\nwant error: %v", q, got.err, want.err)
			continue
		}
		if !slices.Equal(got.cols, want.cols) || !slices.Equal(got.types, want.types) {
			t.Errorf("%s\n got columns %v %v\nwant columns %v %v", q, got.cols, got.types, want.cols, want.types)
			continue
		}
		// WITH ROLLUP orders its rows by the GROUP BY, as ORDER BY would.
		ordered := strings.Contains(withoutGroupConcat(strings.ToLower(q)), "order by") || strings.Contains(strings.ToLower(q), "with rollup")
		g, w := rowsText(got.rows, !ordered, false), rowsText(want.rows, !ordered, false)
		if g == w {
			equal++
			continue
		}
		// MySQL shows any row's spelling for a group of a case-insensitive,
		// PAD SPACE key ('Bob', 'bob', 'bob '): for GROUP BY, DISTINCT, UNION,
		// INTERSECT, EXCEPT, MIN and MAX, equal up to case and trailing spaces
		// is equal.
		lq := strings.ToLower(q)
		if (strings.Contains(lq, "group by") || strings.Contains(lq, "distinct") || strings.Contains(lq, " union select") || strings.Contains(lq, " union (select") ||
			strings.Contains(lq, " intersect ") || strings.Contains(lq, " except ") || strings.Contains(lq, "min(") || strings.Contains(lq, "max(")) &&
			rowsText(got.rows, !ordered, true) == rowsText(want.rows, !ordered, true) {
			folded++
			continue
		}
		t.Errorf("%s\n got rows:\n%s\nwant rows:\n%s", q, g, w)
	}
	t.Logf("differential: %d queries, %d equal, %d equal up to the case of a group's spelling, %d refused (limit %d%%)",
		len(queries), equal, folded, refused, maxRefusedPercent)
	if refused*100 > len(queries)*maxRefusedPercent {
		t.Errorf("%d of %d queries refused, more than %d%%", refused, len(queries), maxRefusedPercent)
	}
	diffWrites(t, sharded, plain)
}

// withoutGroupConcat drops the arguments of every GROUP_CONCAT(...), whose
// ORDER BY orders the elements, not the result's rows.
func withoutGroupConcat(q string) string {
	for {
		i := strings.Index(q, "group_concat(")
		if i < 0 {
			return q
		}
		depth, j := 0, i+len("group_concat")
		for ; j < len(q); j++ {
			if q[j] == '(' {
				depth++
			} else if q[j] == ')' {
				if depth--; depth == 0 {
					break
				}
			}
		}
		q = q[:i] + "gc" + q[min(j+1, len(q)):]
	}
}
