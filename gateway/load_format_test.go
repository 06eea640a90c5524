package gateway

import (
	"fmt"
	"strings"
	"testing"

	"github.com/pingcap/tidb/pkg/parser/ast"
)

// loadRowsOf cuts text into rows as LOAD DATA would with f, feeding it in
// pieces of chunk bytes; NULL is shown as <NULL>.
func loadRowsOf(f loadFormat, text string, chunk int) [][]string {
	r := &loadReader{f: f}
	var out [][]string
	take := func() {
		for {
			row, ok := r.next()
			if !ok {
				return
			}
			var fields []string
			for _, fld := range row {
				if fld.null {
					fields = append(fields, "<NULL>")
				} else {
					fields = append(fields, string(fld.val))
				}
			}
			out = append(out, fields)
		}
	}
	for len(text) > 0 {
		n := min(chunk, len(text))
		r.feed([]byte(text[:n]))
		text = text[n:]
		take()
	}
	r.eof = true
	take()
	return out
}

func TestLoadReader(t *testing.T) {
	str := func(s string) *string { return &s }
	csv := &ast.LoadDataStmt{FieldsInfo: &ast.FieldsClause{Terminated: str(","), Enclosed: str(`"`)}, LinesInfo: &ast.LinesClause{Terminated: str("\r\n")}}
	prefixed := &ast.LoadDataStmt{LinesInfo: &ast.LinesClause{Starting: str("xx")}}
	cases := []struct {
		stmt *ast.LoadDataStmt
		text string
		want string
	}{
		{&ast.LoadDataStmt{}, "1\ta string\n2\ta string containing a \\t\n3\twith \\n newline\n4\t\\N\n", `[[1 a string] [2 a string containing a 	] [3 with 
 newline] [4 <NULL>]]`},
		{&ast.LoadDataStmt{}, "5\tno final newline", `[[5 no final newline]]`},
		{&ast.LoadDataStmt{}, "6\t\\\\N is text\t\\0\n", "[[6 \\N is text \x00]]"},
		{csv, "1,\"a, b\",NULL\r\n2,\"say \"\"hi\"\"\",\"NULL\"\r\n3,\"line\r\nbreak\",\r\n", `[[1 a, b <NULL>] [2 say "hi" NULL] [3 line` + "\r\n" + `break ]]`},
		{prefixed, "junk xx1\tone\nno prefix here\nxx2\ttwo\n", `[[1 one] [2 two]]`},
	}
	for _, c := range cases {
		f, err := loadFormatOf(c.stmt)
		if err != nil {
			t.Fatal(err)
		}
		for _, chunk := range []int{1, 3, 1 << 20} {
			if got := fmt.Sprint(loadRowsOf(f, c.text, chunk)); got != c.want {
				t.Errorf("%q in chunks of %d:\n got %s\nwant %s", c.text, chunk, got, c.want)
			}
		}
	}
	if _, err := loadFormatOf(&ast.LoadDataStmt{FieldsInfo: &ast.FieldsClause{Terminated: str("")}}); err == nil || !strings.Contains(err.Error(), "fixed-width") {
		t.Errorf("empty field terminator: got %v, want a refusal", err)
	}
}
