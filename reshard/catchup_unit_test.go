package reshard

import (
	"slices"
	"strconv"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/vindex"
)

func TestBinlogText(t *testing.T) {
	signed := &mysql.Field{Type: mysql.MYSQL_TYPE_LONGLONG}
	unsigned := &mysql.Field{Type: mysql.MYSQL_TYPE_LONGLONG, Flag: mysql.UNSIGNED_FLAG}
	medium := &mysql.Field{Type: mysql.MYSQL_TYPE_INT24, Flag: mysql.UNSIGNED_FLAG}
	str := &mysql.Field{Type: mysql.MYSQL_TYPE_VAR_STRING}
	for _, c := range []struct {
		f    *mysql.Field
		v    any
		want []byte
	}{
		{signed, int64(-5), []byte("-5")},
		// go-mysql decodes unsigned columns as signed without the
		// binlog's signedness metadata.
		{unsigned, int64(-1), []byte("18446744073709551615")},
		{medium, int32(-1), []byte("16777215")},
		{&mysql.Field{Type: mysql.MYSQL_TYPE_TINY, Flag: mysql.UNSIGNED_FLAG}, int8(-1), []byte("255")},
		{&mysql.Field{Type: mysql.MYSQL_TYPE_DOUBLE}, 2.25, []byte("2.25")},
		{str, "x'y", []byte("x'y")},
		{str, []byte{}, []byte{}},
		{str, nil, nil},
	} {
		got := binlogText(c.f, c.v)
		if !slices.Equal(got, c.want) || (got == nil) != (c.want == nil) {
			t.Errorf("binlogText(%v %T %v): got %q, want %q", c.f.Type, c.v, c.v, got, c.want)
		}
	}
}

func TestStatementsFor(t *testing.T) {
	v, err := vindex.New("hash", "hash", nil)
	if err != nil {
		t.Fatal(err)
	}
	fn := v.(vindex.Functional)
	ti := &tableInfo{name: "c", fields: []*mysql.Field{
		{Name: []byte("id"), Type: mysql.MYSQL_TYPE_LONGLONG}, {Name: []byte("v"), Type: mysql.MYSQL_TYPE_VAR_STRING},
	}, pk: []int{0}, vcol: 0, vx: fn}
	var targets []target
	for _, n := range []string{"-80", "80-"} {
		kr, _ := vindex.ParseKeyRange(n)
		targets = append(targets, target{name: n, kr: kr})
	}
	c := &catchup{targets: targets}
	// ids[i] are two ids target i owns.
	ids := [2][]string{}
	for id := int64(1); len(ids[0]) < 2 || len(ids[1]) < 2; id++ {
		ksid, _ := fn.Map(id)
		i := 1
		if targets[0].kr.Contains(ksid) {
			i = 0
		}
		ids[i] = append(ids[i], strconv.FormatInt(id, 10))
	}
	row := func(id, v string) [][]byte { return [][]byte{[]byte(id), []byte(v)} }
	ct := &catchupTable{tableInfo: ti}
	a, a2, b := ids[0][0], ids[0][1], ids[1][0]
	for _, tc := range []struct {
		name string
		ch   []rowChange
		want [2][]string
	}{
		{"insert", []rowChange{{table: ct, after: row(a, "x")}},
			[2][]string{{"REPLACE INTO `c` VALUES (" + a + ",'x')"}, nil}},
		{"delete", []rowChange{{table: ct, before: row(b, "x")}},
			[2][]string{nil, {"DELETE FROM `c` WHERE `id` = " + b}}},
		{"update in place", []rowChange{{table: ct, before: row(a, "x"), after: row(a, "y")}},
			[2][]string{{"REPLACE INTO `c` VALUES (" + a + ",'y')"}, nil}},
		{"update of the key within a target", []rowChange{{table: ct, before: row(a, "x"), after: row(a2, "x")}},
			[2][]string{{"DELETE FROM `c` WHERE `id` = " + a, "REPLACE INTO `c` VALUES (" + a2 + ",'x')"}, nil}},
		{"update moving the row", []rowChange{{table: ct, before: row(a, "x"), after: row(b, "x")}},
			[2][]string{{"DELETE FROM `c` WHERE `id` = " + a}, {"REPLACE INTO `c` VALUES (" + b + ",'x')"}}},
		{"consecutive inserts of a table in one statement, a delete between ends it", []rowChange{
			{table: ct, after: row(a, "x")}, {table: ct, after: row(a2, "y")}, {table: ct, before: row(a, "x")}, {table: ct, after: row(a, "z")}},
			[2][]string{{"REPLACE INTO `c` VALUES (" + a + ",'x'),(" + a2 + ",'y')", "DELETE FROM `c` WHERE `id` = " + a, "REPLACE INTO `c` VALUES (" + a + ",'z')"}, nil}},
		{"reference table", []rowChange{{table: &catchupTable{tableInfo: ti, reference: true}, after: row(a, "x")}},
			[2][]string{{"REPLACE INTO `c` VALUES (" + a + ",'x')"}, {"REPLACE INTO `c` VALUES (" + a + ",'x')"}}},
	} {
		for i := range targets {
			got, err := c.statementsFor(i, tc.ch)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want[i]) {
				t.Errorf("%s on target %s: got %q, want %q", tc.name, targets[i].name, got, tc.want[i])
			}
		}
	}
}

func TestQueryClassification(t *testing.T) {
	if got, want := xidOf("XA END X'7831',X'',1"), xidOf("XA COMMIT X'7831',X'',1"); got != want || got == "" {
		t.Errorf("xid of XA END and XA COMMIT: got %q and %q, want equal", got, want)
	}
	for q, want := range map[string]bool{"ALTER TABLE t ADD c INT": true, "create table x (a int)": true,
		"TRUNCATE t": true, "DROP TABLE t": true, "INSERT INTO t VALUES (1)": false, "FLUSH LOGS": false} {
		if got := isDDL(firstWords(q, 2)); got != want {
			t.Errorf("isDDL(%q): got %v, want %v", q, got, want)
		}
	}
	// The position schema and table the write switch creates on the
	// sources are not the keyspace's DDL (the forward catch-up saw them
	// as such and failed the workflow at the switch).
	for _, q := range []string{createPositionSchema, createPositionTable} {
		if !isPositionDDL(q) {
			t.Errorf("isPositionDDL(%.50q): got false, want true", q)
		}
	}
	if isPositionDDL("ALTER TABLE t ADD c INT") {
		t.Errorf("isPositionDDL(ALTER TABLE t): got true, want false")
	}
	if !mentionsSchema("ALTER TABLE `ks`.t ADD c INT", "ks") || !mentionsSchema("alter table ks.t add c int", "ks") || mentionsSchema("ALTER TABLE ksx.t ADD c INT", "ks") {
		t.Errorf("mentionsSchema: want true for `ks`.t and ks.t, false for ksx.t")
	}
}
