package engine

import (
	"context"
	"reflect"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

func TestRouteStreamSendsFieldsOnce(t *testing.T) {
	fields := []*mysql.Field{field("id", mysql.MYSQL_TYPE_LONG, binaryCharset)}
	vc := shardResults(fields, rows([]string{"1"}), rows([]string{"2"}), rows([]string{"3"}))
	var got []string
	err := scatterRoute("select id from t").Stream(context.Background(), vc, nil, func(r *Result) error {
		if r.Fields != nil {
			got = append(got, "fields")
		}
		if len(r.Rows) > 0 {
			got = append(got, show(r.Rows))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"fields", "(1)", "(2)", "(3)"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
