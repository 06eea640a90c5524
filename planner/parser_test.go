package planner

import (
	"errors"
	"strings"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

func TestParseErrors(t *testing.T) {
	p := NewParser()
	for _, tc := range []struct{ sql, near string }{
		{"select * frm t", "near 'frm t' at line 1"},
		{"select\n1\nfrom t\nwhere x =", "near '' at line 4"},
	} {
		_, err := p.Parse(tc.sql)
		var me *mysql.MyError
		if !errors.As(err, &me) || me.Code != mysql.ER_PARSE_ERROR || me.State != "42000" {
			t.Fatalf("Parse(%q): got %v, want a 1064 error", tc.sql, err)
		}
		if !strings.HasPrefix(me.Message, "You have an error in your SQL syntax") || !strings.HasSuffix(me.Message, tc.near) {
			t.Errorf("Parse(%q): got %q, want ...%s", tc.sql, me.Message, tc.near)
		}
	}
	// The parser keeps working after an error.
	if _, err := p.Parse("select 1"); err != nil {
		t.Fatal(err)
	}
}
