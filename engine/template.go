package engine

import (
	"math"
	"strconv"
	"strings"
	"unsafe"

	"github.com/shardgate/shardgate/sqlquote"
)

// A Template is a shard query rendered once, at plan time, with holes where
// arguments and per-shard values go. Rendering it is string building only:
// no parsing, no AST.
//
// While the AST is restored to text, holes are written as "\x00<kind><n>\x00";
// literals are restored with NUL escaped (\0), so a NUL byte in restored text
// is always a hole, and CompileTemplate splits on them.
type Template struct {
	chunks []string // len(holes)+1 pieces of literal SQL
	holes  []hole
	static int // total length of chunks
	// prepared is the query as a server-side prepared statement, when
	// every hole is an argument (template_prepared.go).
	prepared *PreparedQuery
}

type holeKind byte

const (
	holeArg   holeKind = 'p' // argument n substituted as a SQL literal
	holeVals  holeKind = 'v' // the per-shard list of vindex values of an IN
	holeLimit holeKind = 'l' // pushed-down row limit: offset+count
)

type hole struct {
	kind holeKind
	n    int
}

func HoleParam(i int) string { return "\x00p" + strconv.Itoa(i) + "\x00" }

const (
	HoleValsText  = "\x00v0\x00"
	HoleLimitText = "\x00l0\x00"
)

// CompileTemplate splits restored SQL at its holes.
func CompileTemplate(s string) (*Template, error) {
	t := &Template{}
	for {
		i := strings.IndexByte(s, 0)
		if i < 0 {
			break
		}
		j := strings.IndexByte(s[i+1:], 0)
		if j < 2 {
			return nil, errInternal("query contains a NUL byte outside a string literal")
		}
		mark := s[i+1 : i+1+j]
		n, err := strconv.Atoi(mark[1:])
		if err != nil {
			return nil, errInternal("query contains a NUL byte outside a string literal")
		}
		t.chunks = append(t.chunks, s[:i])
		t.holes = append(t.holes, hole{kind: holeKind(mark[0]), n: n})
		s = s[i+1+j+1:]
	}
	t.chunks = append(t.chunks, s)
	for _, c := range t.chunks {
		t.static += len(c)
	}
	t.prepared = preparedForm(t)
	return t, nil
}

// TextTemplate is a template without holes.
func TextTemplate(s string) *Template {
	t := &Template{chunks: []string{s}, static: len(s)}
	t.prepared = preparedForm(t)
	return t
}

// ArgTemplate is a template whose holes are arguments: chunks[i] comes
// before argument params[i], and chunks has one piece more than params.
func ArgTemplate(chunks []string, params []int) *Template {
	t := &Template{chunks: chunks, holes: make([]hole, len(params))}
	for i, n := range params {
		t.holes[i] = hole{kind: holeArg, n: n}
	}
	for _, c := range chunks {
		t.static += len(c)
	}
	t.prepared = preparedForm(t)
	return t
}

// renderEnv is what a template's holes read at execution time.
type renderEnv struct {
	args  []any
	vals  []Value // holeVals: values for this shard
	limit uint64  // holeLimit
}

// render builds the query text for one shard.
func (t *Template) render(env *renderEnv) (string, error) {
	if len(t.holes) == 0 {
		return t.chunks[0], nil
	}
	b := make([]byte, 0, t.static+16*len(t.holes))
	var err error
	for i, h := range t.holes {
		b = append(b, t.chunks[i]...)
		switch h.kind {
		case holeArg:
			if h.n >= len(env.args) {
				return "", errWrongArgs(h.n+1, len(env.args))
			}
			if b, err = AppendLiteral(b, env.args[h.n]); err != nil {
				return "", err
			}
		case holeVals:
			for j, v := range env.vals {
				if j > 0 {
					b = append(b, ", "...)
				}
				if b, err = v.appendSQL(b, env.args); err != nil {
					return "", err
				}
			}
		case holeLimit:
			b = strconv.AppendUint(b, env.limit, 10)
		default:
			return "", errInternal("bad template hole %q", h.kind)
		}
	}
	b = append(b, t.chunks[len(t.chunks)-1]...)
	// b is never written again: share its bytes, as strings.Builder does,
	// instead of copying them (one allocation per shard query, not two).
	return unsafe.String(unsafe.SliceData(b), len(b)), nil
}

// String shows the template for plan descriptions: arguments as ?, the IN
// list as ::__vals and a pushed limit as :__upper_limit (Vitess's names).
func (t *Template) String() string {
	var sb strings.Builder
	for i, h := range t.holes {
		sb.WriteString(t.chunks[i])
		switch h.kind {
		case holeArg:
			sb.WriteString("?")
		case holeVals:
			sb.WriteString("::__vals")
		case holeLimit:
			sb.WriteString(":__upper_limit")
		}
	}
	sb.WriteString(t.chunks[len(t.chunks)-1])
	return sb.String()
}

// SQLLiteral renders an argument as a SQL literal.
func SQLLiteral(v any) (string, error) {
	b, err := AppendLiteral(nil, v)
	return string(b), err
}

// AppendLiteral appends v as a SQL literal: integers and floats as numbers
// (floats with an exponent, so the server reads a DOUBLE, not a DECIMAL),
// strings and bytes quoted with MySQL's backslash escapes, nil as NULL.
func AppendLiteral(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case rawSQL:
		return append(b, x...), nil
	case scalarArg:
		return append(b, x.sql...), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case uint64:
		return strconv.AppendUint(b, x, 10), nil
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int32:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int16:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int8:
		return strconv.AppendInt(b, int64(x), 10), nil
	case uint32:
		return strconv.AppendUint(b, uint64(x), 10), nil
	case uint16:
		return strconv.AppendUint(b, uint64(x), 10), nil
	case uint8:
		return strconv.AppendUint(b, uint64(x), 10), nil
	case uint:
		return strconv.AppendUint(b, uint64(x), 10), nil
	case bool:
		if x {
			return append(b, '1'), nil
		}
		return append(b, '0'), nil
	case float32:
		return appendFloat(b, float64(x))
	case float64:
		return appendFloat(b, x)
	case string:
		return appendQuoted(b, x), nil
	case []byte:
		return appendQuoted(b, string(x)), nil
	}
	return nil, errInternal("cannot use a %T as a query argument", v)
}

func appendFloat(b []byte, f float64) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, errInternal("cannot use %v as a query argument", f)
	}
	start := len(b)
	b = strconv.AppendFloat(b, f, 'g', -1, 64)
	for _, c := range b[start:] {
		if c == 'e' {
			return b, nil
		}
	}
	return append(b, "e0"...), nil
}

func QuoteString(s string) string { return string(appendQuoted(nil, s)) }

// appendQuoted quotes s as a MySQL string literal (sqlquote).
func appendQuoted(b []byte, s string) []byte { return sqlquote.Append(b, s) }
