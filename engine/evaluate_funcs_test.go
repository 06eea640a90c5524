package engine

import (
	"testing"
)

// TestNumericFunctions pins the rounding rules MySQL applies: DECIMALs
// half away from zero, DOUBLEs half to even on the scaled value (MariaDB's
// my_double_round uses rint), TRUNCATE toward zero, FLOOR/CEIL of
// negatives.
func TestNumericFunctions(t *testing.T) {
	dec := func(s string) Expr {
		e, ok := DecimalExpr(s)
		if !ok {
			t.Fatalf("DecimalExpr(%q)", s)
		}
		return e
	}
	num := func(v any) Expr {
		e, ok := NumberExpr(v)
		if !ok {
			t.Fatalf("NumberExpr(%v)", v)
		}
		return e
	}
	cases := []struct {
		name string
		e    Expr
		want string
	}{
		{"ROUND(2.5)", RoundExpr(dec("2.5"), nil, false), "3"},
		{"ROUND(-2.5)", RoundExpr(dec("-2.5"), nil, false), "-3"},
		{"ROUND(1.005, 2)", RoundExpr(dec("1.005"), num(int64(2)), false), "1.01"},
		{"ROUND(1234.5, -2)", RoundExpr(dec("1234.5"), num(int64(-2)), false), "1200"},
		{"ROUND(1250, -2)", RoundExpr(dec("1250"), num(int64(-2)), false), "1300"},
		{"ROUND(2.5e0)", RoundExpr(num(2.5), nil, false), "2"},
		{"ROUND(3.5e0)", RoundExpr(num(3.5), nil, false), "4"},
		{"ROUND(1.25e0, 1)", RoundExpr(num(1.25), num(int64(1)), false), "1.2"},
		{"ROUND(x, NULL)", RoundExpr(dec("1.5"), num(nil), false), "NULL"},
		{"TRUNCATE(-1.99, 1)", RoundExpr(dec("-1.99"), num(int64(1)), true), "-1.9"},
		{"TRUNCATE(1999, -2)", RoundExpr(dec("1999"), num(int64(-2)), true), "1900"},
		{"FLOOR(-1.5)", FloorExpr(dec("-1.5"), false), "-2"},
		{"CEIL(-1.5)", FloorExpr(dec("-1.5"), true), "-1"},
		{"CEIL(1.01)", FloorExpr(dec("1.01"), true), "2"},
		{"ABS(-3.25)", AbsExpr(dec("-3.25")), "3.25"},
		{"GREATEST(1, 2.50, 2)", ExtremumExpr([]Expr{num(int64(1)), dec("2.50"), num(int64(2))}, false), "2.50"},
		{"LEAST(1, NULL)", ExtremumExpr([]Expr{num(int64(1)), num(nil)}, true), "NULL"},
		{"LEAST(2, 1.5e0)", ExtremumExpr([]Expr{num(int64(2)), num(1.5)}, true), "1.5"},
	}
	for _, c := range cases {
		v, err := c.e(nil, &evalCtx{env: DefaultEvalEnv()}, nil)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		got := "NULL"
		switch {
		case v.null:
		case v.isFloat:
			got = formatDouble(v.f)
		default:
			got = v.r.FloatString(v.scale)
		}
		if got != c.want {
			t.Errorf("%s = %s, want %s", c.name, got, c.want)
		}
	}
}

// TestStringFunctionsNeedAStringForm: LENGTH and CONCAT read a column's
// bytes as sent, and refuse a computed number (its string form depends on
// a type the evaluator does not track).
func TestStringFunctionsNeedAStringForm(t *testing.T) {
	row := [][]byte{[]byte("héllo"), []byte("12.50")}
	kinds := &evalCtx{kinds: []sortKind{sortWeight, sortDecimal}, env: DefaultEvalEnv()}
	for _, c := range []struct {
		name string
		e    Expr
		want string
	}{
		{"LENGTH", LengthExpr(ColumnExpr(0), false), "6"},
		{"CHAR_LENGTH", LengthExpr(ColumnExpr(0), true), "5"},
		{"CONCAT", ConcatExpr([]Expr{ColumnExpr(0), StringExpr("="), ColumnExpr(1)}), "héllo=12.50"},
	} {
		v, err := c.e(row, kinds, nil)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		got := string(v.str)
		if !v.isStr {
			got = v.r.FloatString(0)
		}
		if got != c.want {
			t.Errorf("%s = %q, want %q", c.name, got, c.want)
		}
	}
	// An exact quotient's string form is its value rounded to its type's
	// decimals: the dividend's 2 + div_precision_increment 4, as
	// MariaDB's concat(12.50 / 12.50) is '1.000000'.
	v, err := ConcatExpr([]Expr{BinaryExpr(OpDiv, ColumnExpr(1), ColumnExpr(1))})(row, kinds, nil)
	if err != nil || string(v.str) != "1.000000" {
		t.Errorf("CONCAT(x / x) of 12.50: got %q, %v; want 1.000000", v.str, err)
	}
	// A DOUBLE computed at the gateway has no string form it knows.
	half, _ := NumberExpr(0.5)
	if _, err := ConcatExpr([]Expr{BinaryExpr(OpMul, ColumnExpr(1), half)})(row, kinds, nil); err == nil {
		t.Error("CONCAT of a computed DOUBLE: no error, want a refusal")
	}
}
