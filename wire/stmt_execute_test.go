package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

func TestAppendStmtExecuteArgs(t *testing.T) {
	args := []any{int64(-2), nil, uint64(math.MaxUint64), 1.5, []byte("ab")}
	got, err := AppendStmtExecuteArgs(nil, 7, args)
	if err != nil {
		t.Fatal(err)
	}
	var want []byte
	want = append(want, 0, 0, 0, 0, mysql.COM_STMT_EXECUTE, 7, 0, 0, 0, 0, 1, 0, 0, 0)
	want = append(want, 0b10) // NULL bitmap: argument 1
	want = append(want, 1)    // new params bound
	want = append(want,
		mysql.MYSQL_TYPE_LONGLONG, 0,
		mysql.MYSQL_TYPE_NULL, 0,
		mysql.MYSQL_TYPE_LONGLONG, 0x80,
		mysql.MYSQL_TYPE_DOUBLE, 0,
		mysql.MYSQL_TYPE_STRING, 0)
	want = binary.LittleEndian.AppendUint64(want, uint64(0xfffffffffffffffe))
	want = binary.LittleEndian.AppendUint64(want, math.MaxUint64)
	want = binary.LittleEndian.AppendUint64(want, math.Float64bits(1.5))
	want = append(want, 2, 'a', 'b')
	if !bytes.Equal(got, want) {
		t.Errorf("AppendStmtExecuteArgs(%v):\n got %x\nwant %x", args, got, want)
	}
}

func TestAppendStmtExecuteArgsNone(t *testing.T) {
	got, err := AppendStmtExecuteArgs(nil, 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := AppendStmtExecute(nil, 3); !bytes.Equal(got, want) {
		t.Errorf("got %x, want %x", got, want)
	}
}

func TestAppendStmtExecuteArgsRefusesOtherTypes(t *testing.T) {
	if _, err := AppendStmtExecuteArgs(nil, 1, []any{"text"}); !errors.Is(err, ErrParamType) {
		t.Errorf("string argument: got %v, want ErrParamType", err)
	}
}
