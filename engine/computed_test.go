package engine

import (
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// The vectors are MariaDB 10.11's answers (SELECT 1/3*3000000, ...): a
// decimal division keeps nine-digit words, truncated, until the result is
// rounded to its column's scale.
func TestComputedDecimalDivision(t *testing.T) {
	lit := func(s string) Expr {
		e, ok := DecimalExpr(s)
		if !ok {
			t.Fatalf("DecimalExpr(%q) failed", s)
		}
		return e
	}
	div := func(a, b Expr) Expr { return BinaryExpr(OpDiv, a, b) }
	mul := func(a, b Expr) Expr { return BinaryExpr(OpMul, a, b) }
	dec := func(scale uint8) *mysql.Field {
		return &mysql.Field{Type: mysql.MYSQL_TYPE_NEWDECIMAL, Decimal: scale}
	}
	dbl := &mysql.Field{Type: mysql.MYSQL_TYPE_DOUBLE, Decimal: 31}
	f7, _ := NumberExpr(7.0)
	for _, tc := range []struct {
		sql   string
		e     Expr
		field *mysql.Field
		want  string
	}{
		{"1/3*3", mul(div(lit("1"), lit("3")), lit("3")), dec(4), "1.0000"},
		{"1/3*3000000", mul(div(lit("1"), lit("3")), lit("3000000")), dec(4), "999999.9990"},
		{"2/3", div(lit("2"), lit("3")), dec(4), "0.6667"},
		{"1/7*7000000000", mul(div(lit("1"), lit("7")), lit("7000000000")), dec(4), "999999994.0000"},
		{"10/3/3", div(div(lit("10"), lit("3")), lit("3")), dec(8), "1.11111111"},
		{"2/3*3000000000", mul(div(lit("2"), lit("3")), lit("3000000000")), dec(4), "1999999998.0000"},
		{"-2/3*3000000000", mul(div(lit("-2"), lit("3")), lit("3000000000")), dec(4), "-1999999998.0000"},
		{"1.0/3*1000000000000", mul(div(lit("1.0"), lit("3")), lit("1000000000000")), dec(5), "333333333000.00000"},
		{"2.5/3.25*1000000000000", mul(div(lit("2.5"), lit("3.25")), lit("1000000000000")), dec(5), "769230769230.76923"},
		{"1.5/7*7e0", mul(div(lit("1.5"), lit("7")), f7), dbl, "1.4999999979999998"},
	} {
		v, err := tc.e(nil, &evalCtx{env: DefaultEvalEnv()}, nil)
		if err != nil {
			t.Fatalf("%s: %v", tc.sql, err)
		}
		if got := string(formatAs(v, tc.field)); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.sql, got, tc.want)
		}
	}
}

func TestComputedConditionals(t *testing.T) {
	num := func(v any) Expr {
		e, ok := NumberExpr(v)
		if !ok {
			t.Fatalf("NumberExpr(%v) failed", v)
		}
		return e
	}
	null := num(nil)
	gt := func(a, b Expr) Expr { return BinaryExpr(OpGT, a, b) }
	dec := &mysql.Field{Type: mysql.MYSQL_TYPE_NEWDECIMAL, Decimal: 2}
	str := &mysql.Field{Type: mysql.MYSQL_TYPE_VAR_STRING}
	for _, tc := range []struct {
		name  string
		e     Expr
		field *mysql.Field
		want  string
	}{
		{"coalesce(null, null, 3)", CoalesceExpr([]Expr{null, null, num(int64(3))}), dec, "3.00"},
		{"coalesce(null)", CoalesceExpr([]Expr{null}), dec, "NULL"},
		{"if(2 > 1, 5, 6)", IfExpr(gt(num(int64(2)), num(int64(1))), num(int64(5)), num(int64(6))), dec, "5.00"},
		{"if(null, 5, 6)", IfExpr(null, num(int64(5)), num(int64(6))), dec, "6.00"},
		{"nullif(4, 4)", NullIfExpr(num(int64(4)), num(int64(4))), dec, "NULL"},
		{"nullif(4, 5)", NullIfExpr(num(int64(4)), num(int64(5))), dec, "4.00"},
		{"case when 0 then 1 when 3 > 2 then 'b' end", CaseExpr(nil, []CaseWhen{{num(int64(0)), num(int64(1))}, {gt(num(int64(3)), num(int64(2))), StringExpr("b")}}, nil), str, "b"},
		{"case 2 when 1 then 'a' else 'z' end", CaseExpr(num(int64(2)), []CaseWhen{{num(int64(1)), StringExpr("a")}}, StringExpr("z")), str, "z"},
		{"case when null then 1 end", CaseExpr(nil, []CaseWhen{{null, num(int64(1))}}, nil), dec, "NULL"},
	} {
		v, err := tc.e(nil, &evalCtx{env: DefaultEvalEnv()}, nil)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		got := "NULL"
		if b := formatAs(v, tc.field); b != nil {
			got = string(b)
		}
		if got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, got, tc.want)
		}
	}
}
