package gateway

import (
	"bufio"
	"bytes"
	"io"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// execPacket builds a COM_STMT_EXECUTE packet for stmt 1 with two
// parameters; types nil means new-params-bound-flag 0.
func execPacket(types, values []byte) []byte {
	payload := []byte{mysql.COM_STMT_EXECUTE, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0x00}
	if types != nil {
		payload = append(payload, 1)
		payload = append(payload, types...)
	} else {
		payload = append(payload, 0)
	}
	payload = append(payload, values...)
	return append([]byte{byte(len(payload)), byte(len(payload) >> 8), byte(len(payload) >> 16), 0}, payload...)
}

// TestStmtExecuteWithoutTypes: a client that sends the parameter types
// only on the first execute (libmariadb) gets its values on the next ones.
func TestStmtExecuteWithoutTypes(t *testing.T) {
	types := []byte{mysql.MYSQL_TYPE_LONGLONG, 0, mysql.MYSQL_TYPE_LONGLONG, 0}
	v1 := []byte{5, 0, 0, 0, 0, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0}
	v2 := []byte{7, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0}
	var in bytes.Buffer
	in.Write(execPacket(types, v1))
	in.Write(execPacket(nil, v2))
	in.Write(execPacket(nil, v2)) // again: no growth of the rewrite
	var st stmtTypes
	st.prepared(1, 2, false)
	r := &packetReader{r: bufio.NewReader(&in), types: &st}
	got, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	want := append(append(execPacket(types, v1), execPacket(types, v2)...), execPacket(types, v2)...)
	if !bytes.Equal(got, want) {
		t.Errorf("got  %x\nwant %x", got, want)
	}

	// Statements it does not know pass unchanged.
	in.Reset()
	in.Write(execPacket(nil, v2))
	r = &packetReader{r: bufio.NewReader(&in), types: &stmtTypes{}}
	if got, _ := io.ReadAll(r); !bytes.Equal(got, execPacket(nil, v2)) {
		t.Errorf("unknown statement rewritten: %x", got)
	}
}
