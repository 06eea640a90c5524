package reshard

import (
	"errors"
	"strings"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/topo/vschema"
)

func TestAppendLiteral(t *testing.T) {
	intField := &mysql.Field{Type: mysql.MYSQL_TYPE_LONGLONG}
	text := &mysql.Field{Type: mysql.MYSQL_TYPE_VAR_STRING, Charset: 45}
	blob := &mysql.Field{Type: mysql.MYSQL_TYPE_BLOB, Charset: binaryCharset}
	for _, c := range []struct {
		f    *mysql.Field
		v    []byte
		want string
	}{
		{intField, []byte("-42"), "-42"},
		{intField, nil, "NULL"},
		{intField, []byte("1; DROP TABLE t"), "'1; DROP TABLE t'"},
		{text, []byte("it's a \\ \x00\n"), `'it\'s a \\ \0\n'`},
		{text, []byte{}, "''"},
		{blob, []byte{0, 0xff, '\''}, "X'00ff27'"},
	} {
		if got := string(appendLiteral(nil, c.f, c.v)); got != c.want {
			t.Errorf("appendLiteral(%q): got %s, want %s", c.v, got, c.want)
		}
	}
}

func TestChunkQueries(t *testing.T) {
	ti := &tableInfo{
		name: "orders",
		fields: []*mysql.Field{
			{Name: []byte("customer_id"), Type: mysql.MYSQL_TYPE_LONGLONG},
			{Name: []byte("seq"), Type: mysql.MYSQL_TYPE_LONG},
			{Name: []byte("item"), Type: mysql.MYSQL_TYPE_VAR_STRING},
		},
		pk: []int{0, 1},
	}
	for _, c := range []struct {
		got, want string
	}{
		{ti.chunkQuery(nil, 100), "SELECT * FROM `orders` ORDER BY `customer_id`, `seq` LIMIT 100"},
		{ti.chunkQuery([]string{"7", "2"}, 100), "SELECT * FROM `orders` WHERE (`customer_id` > 7) OR (`customer_id` = 7 AND `seq` > 2) ORDER BY `customer_id`, `seq` LIMIT 100"},
		{ti.countQuery([]string{"7", "2"}), "SELECT COUNT(*) FROM `orders` WHERE (`customer_id` > 7) OR (`customer_id` = 7 AND `seq` > 2)"},
	} {
		if c.got != c.want {
			t.Errorf("got  %s\nwant %s", c.got, c.want)
		}
	}
}

func TestSplitTables(t *testing.T) {
	vs, err := vschema.Build(map[string]*vschema.Keyspace{"ks": {
		Sharded:  true,
		Vindexes: map[string]*vschema.VindexDef{"hash": {Type: "hash"}},
		Tables: map[string]*vschema.Table{
			"customer": {ColumnVindexes: []*vschema.ColumnVindex{{Column: "id", Name: "hash"}}},
			"region":   {Type: vschema.TypeReference},
		},
	}})
	if err != nil {
		t.Fatal(err)
	}
	ks := vs.Keyspaces["ks"]
	split, ref, err := splitTables(ks, []string{"customer", "region"})
	if err != nil || len(split) != 1 || split[0] != "customer" || len(ref) != 1 || ref[0] != "region" {
		t.Errorf("splitTables: got %v, %v, %v; want [customer] [region]", split, ref, err)
	}
	_, _, err = splitTables(ks, []string{"customer", "audit"})
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), `table "audit" is not in the vschema`) {
		t.Errorf("splitTables with a table the vschema lacks: got %v, want ErrInvalid naming it", err)
	}
}
