package planner

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/format"
	"github.com/pingcap/tidb/pkg/parser/mysql"
	"github.com/shardgate/shardgate/engine"
)

// The TiDB parser builds literal values through hooks in package ast that a
// "driver" must set (TiDB's own sets them to its full datum machinery). This
// file is shardgate's small driver: literals keep the Go value the lexer
// produced (int64, uint64, float64, string, nil, bool) or, for DECIMAL, hex
// and bit literals, their text; Restore writes them back as SQL that both
// MySQL and MariaDB read the same way.
//
// The hooks are package variables of ast, so they are installed once, on
// first use of NewParser, and never changed afterwards. A binary must not
// also link TiDB's test_driver (its init would be overwritten by ours, or
// the other way round, depending on order).

var installDriverOnce sync.Once

func installDriver() {
	installDriverOnce.Do(func() {
		ast.NewValueExpr = newValueExpr
		ast.NewParamMarkerExpr = newParamMarker
		ast.NewDecimal = func(s string) (any, error) { return decimalLit(s), nil }
		ast.NewHexLiteral = newHexLit
		ast.NewBitLiteral = newBitLit
	})
}

// decimalLit is an exact numeric literal with a point ("1.50"), kept as text.
type decimalLit string

// hexLit is a hexadecimal literal (X'0A', 0x0a), kept as its source text.
type hexLit string

// bitLit is a bit-value literal (b'101', 0b101), kept as its source text.
type bitLit string

func newHexLit(s string) (any, error) {
	digits := s
	switch {
	case len(s) >= 3 && (s[0] == 'x' || s[0] == 'X') && s[1] == '\'' && s[len(s)-1] == '\'':
		digits = s[2 : len(s)-1]
		if len(digits)%2 != 0 {
			return nil, fmt.Errorf("invalid hexadecimal format, must even numbers, but %d", len(digits))
		}
	case strings.HasPrefix(s, "0x"):
		digits = s[2:]
	default:
		return nil, fmt.Errorf("invalid hexadecimal format %s", s)
	}
	for i := 0; i < len(digits); i++ {
		if !isHexDigit(digits[i]) {
			return nil, fmt.Errorf("invalid hexadecimal format %s", s)
		}
	}
	return hexLit(s), nil
}

func newBitLit(s string) (any, error) {
	digits := s
	switch {
	case len(s) >= 3 && (s[0] == 'b' || s[0] == 'B') && s[1] == '\'' && s[len(s)-1] == '\'':
		digits = s[2 : len(s)-1]
	case strings.HasPrefix(s, "0b"):
		digits = s[2:]
	default:
		return nil, fmt.Errorf("invalid bit format %s", s)
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] != '0' && digits[i] != '1' {
			return nil, fmt.Errorf("invalid bit format %s", s)
		}
	}
	return bitLit(s), nil
}

func isHexDigit(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

var (
	_ ast.ValueExpr       = (*valueExpr)(nil)
	_ ast.ParamMarkerExpr = (*paramMarker)(nil)
)

// valueExpr is a literal in the AST.
type valueExpr struct {
	ast.TexprNode
	val     any // nil, int64, uint64, float64, string, bool, decimalLit, hexLit, bitLit
	projOff int
}

func newValueExpr(value any, charset, collate string) ast.ValueExpr {
	if ve, ok := value.(*valueExpr); ok {
		return ve
	}
	ve := &valueExpr{projOff: -1}
	ve.SetValue(value)
	tp := ve.GetType()
	switch value.(type) {
	case nil:
		tp.SetType(mysql.TypeNull)
	case int64, bool:
		tp.SetType(mysql.TypeLonglong)
	case uint64:
		tp.SetType(mysql.TypeLonglong)
		tp.AddFlag(mysql.UnsignedFlag)
	case float64:
		tp.SetType(mysql.TypeDouble)
	case decimalLit:
		tp.SetType(mysql.TypeNewDecimal)
	case hexLit, bitLit:
		tp.SetType(mysql.TypeVarString)
		tp.SetCharset("binary")
		tp.SetCollate("binary")
	default:
		tp.SetType(mysql.TypeVarString)
		tp.SetCharset(charset)
		tp.SetCollate(collate)
	}
	return ve
}

// SetValue implements ast.ValueExpr.
func (n *valueExpr) SetValue(v any) {
	switch x := v.(type) {
	case int:
		v = int64(x)
	case []byte:
		v = string(x)
	}
	n.val = v
}

// GetValue implements ast.ValueExpr. Booleans read as int64 1 and 0, as in MySQL.
func (n *valueExpr) GetValue() any {
	if b, ok := n.val.(bool); ok {
		if b {
			return int64(1)
		}
		return int64(0)
	}
	return n.val
}

// GetDatumString implements ast.ValueExpr.
func (n *valueExpr) GetDatumString() string { return n.GetString() }

// GetString implements ast.ValueExpr.
func (n *valueExpr) GetString() string {
	switch x := n.val.(type) {
	case nil:
		return ""
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case uint64:
		return strconv.FormatUint(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		if x {
			return "1"
		}
		return "0"
	case decimalLit:
		return string(x)
	case hexLit:
		return string(x)
	case bitLit:
		return string(x)
	}
	return fmt.Sprint(n.val)
}

// GetProjectionOffset implements ast.ValueExpr.
func (n *valueExpr) GetProjectionOffset() int { return n.projOff }

// SetProjectionOffset implements ast.ValueExpr.
func (n *valueExpr) SetProjectionOffset(o int) { n.projOff = o }

// Restore implements ast.Node: literals are written as SQL both MySQL and
// MariaDB parse to the same value, whatever the restore flags say.
func (n *valueExpr) Restore(ctx *format.RestoreCtx) error {
	lit, err := n.sqlText()
	if err != nil {
		return err
	}
	ctx.WritePlain(lit)
	return nil
}

// introduced reports a string literal with a charset introducer (_utf8mb4'x').
func (n *valueExpr) introduced() bool {
	return n.Type.GetFlag()&mysql.UnderScoreCharsetFlag != 0 && n.Type.GetCharset() != ""
}

// sqlText is the literal as SQL text.
func (n *valueExpr) sqlText() (string, error) {
	if n.introduced() {
		var prefix string
		switch x := n.val.(type) {
		case string:
			prefix = engine.QuoteString(x)
		case hexLit:
			prefix = string(x)
		case bitLit:
			prefix = string(x)
		default:
			return literalSQL(n.val)
		}
		return "_" + n.Type.GetCharset() + " " + prefix, nil
	}
	return literalSQL(n.val)
}

// Format implements ast.ExprNode.
func (n *valueExpr) Format(w io.Writer) {
	lit, err := literalSQL(n.val)
	if err != nil {
		lit = "?"
	}
	_, _ = io.WriteString(w, lit)
}

// Accept implements ast.Node.
func (n *valueExpr) Accept(v ast.Visitor) (ast.Node, bool) {
	newNode, skip := v.Enter(n)
	if skip {
		return v.Leave(newNode)
	}
	return v.Leave(newNode)
}

// literalSQL renders a literal the lexer produced.
func literalSQL(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "null", nil
	case bool:
		if x {
			return "true", nil
		}
		return "false", nil
	case decimalLit:
		return string(x), nil
	case hexLit:
		return string(x), nil
	case bitLit:
		return string(x), nil
	}
	return engine.SQLLiteral(v)
}

// paramMarker is a `?` placeholder. Index is its position among the
// statement's markers in text order, set by Build.
type paramMarker struct {
	valueExpr
	offset int // byte offset of the `?` in the parsed text
	order  int // order set by the parser
	index  int // -1 until Build numbers it
}

func newParamMarker(offset int) ast.ParamMarkerExpr {
	return &paramMarker{valueExpr: valueExpr{projOff: -1}, offset: offset, index: -1}
}

// SetOrder implements ast.ParamMarkerExpr.
func (n *paramMarker) SetOrder(o int) { n.order = o }

// Restore writes a placeholder that template compilation turns into a hole
// for argument Index.
func (n *paramMarker) Restore(ctx *format.RestoreCtx) error {
	if n.index < 0 {
		return errParamNotNumbered
	}
	ctx.WritePlain(engine.HoleParam(n.index))
	return nil
}

// Format implements ast.ExprNode.
func (n *paramMarker) Format(w io.Writer) { _, _ = io.WriteString(w, "?") }

// Accept implements ast.Node.
func (n *paramMarker) Accept(v ast.Visitor) (ast.Node, bool) {
	newNode, skip := v.Enter(n)
	if skip {
		return v.Leave(newNode)
	}
	return v.Leave(newNode)
}
