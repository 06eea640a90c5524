package gateway_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/acl"
	"github.com/shardgate/shardgate/gateway"
)

// TestChangeUserRechecksLimitAndPassword: COM_CHANGE_USER logs the new
// user in as the handshake does: a wrong password is 1045, and a user
// already at its connection limit is 1203 (the connection moved from one
// user's count to the other's only when the new login is allowed).
func TestChangeUserRechecksLimitAndPassword(t *testing.T) {
	addr := startUsersGateway(t, func(c *gateway.Config) { c.Limits.MaxUserConnections = 1 })
	addUser(t, addr, "cu_full", acl.NativePassword, "f-pw", grant("service", "", "read"))
	addUser(t, addr, "cu_other", acl.NativePassword, "o-pw", grant("service", "", "read"))
	addUser(t, addr, "cu_third", acl.NativePassword, "t-pw", grant("service", "", "read"))

	holder := connectRaw(t, addr, "cu_full", "f-pw") // cu_full's one connection
	if _, err := holder.Execute("select 1"); err != nil {
		t.Fatal(err)
	}
	err := changeUserRaw(connectRaw(t, addr, "cu_other", "o-pw"), "cu_full", "f-pw", "service")
	wantMyError(t, "change to a user at its limit", err, mysql.ER_TOO_MANY_USER_CONNECTIONS)
	err = changeUserRaw(connectRaw(t, addr, "cu_third", "t-pw"), "cu_full", "wrong", "service")
	wantMyError(t, "change with a wrong password", err, mysql.ER_ACCESS_DENIED_ERROR)
	err = changeUserRaw(connectRaw(t, addr, "cu_third", "t-pw"), "cu_nobody", "wrong", "service")
	wantMyError(t, "change to an unknown user", err, mysql.ER_ACCESS_DENIED_ERROR)
	if _, err := holder.Execute("select 1"); err != nil {
		t.Fatalf("the holder's session after the refusals: %v", err)
	}
}

// connectRaw logs in with go-mysql's client, retrying while the user's
// last connection (addUser's) is still counted.
func connectRaw(t *testing.T, addr, user, password string) *client.Conn {
	t.Helper()
	var c *client.Conn
	var err error
	waitFor(t, func() bool {
		c, err = client.Connect(addr, user, password, "service")
		return err == nil
	})
	t.Cleanup(func() { c.Close() })
	return c
}

// changeUserRaw sends COM_CHANGE_USER with no auth response (the gateway
// always switches to the user's method) and answers the switch with a
// mysql_native_password scramble.
func changeUserRaw(c *client.Conn, user, password, db string) error {
	var p []byte
	p = append(p, 0, 0, 0, 0, mysql.COM_CHANGE_USER)
	p = append(p, user...)
	p = append(p, 0, 0) // no auth response
	p = append(p, db...)
	p = append(p, 0, 45, 0) // utf8mb4_general_ci
	p = append(p, mysql.AUTH_NATIVE_PASSWORD...)
	p = append(p, 0)
	c.ResetSequence()
	if err := c.WritePacket(p); err != nil {
		return err
	}
	sw, err := c.ReadPacket()
	if err != nil {
		return err
	}
	if len(sw) < 2 || sw[0] != mysql.EOF_HEADER {
		return errors.New("no auth switch request")
	}
	name, salt, _ := bytes.Cut(sw[1:], []byte{0})
	if string(name) != mysql.AUTH_NATIVE_PASSWORD || len(salt) < 20 {
		return errors.New("bad auth switch request")
	}
	if err := c.WritePacket(append([]byte{0, 0, 0, 0}, mysql.CalcNativePassword(salt[:20], []byte(password))...)); err != nil {
		return err
	}
	pkt, err := c.ReadPacket()
	if err != nil {
		return err
	}
	switch {
	case len(pkt) > 0 && pkt[0] == mysql.OK_HEADER:
		return nil
	case len(pkt) > 3 && pkt[0] == mysql.ERR_HEADER:
		return &mysql.MyError{Code: uint16(pkt[1]) | uint16(pkt[2])<<8, Message: string(pkt[3:])}
	}
	return errors.New("unexpected packet")
}

func wantMyError(t *testing.T, what string, err error, code uint16) {
	t.Helper()
	var me *mysql.MyError
	if !errors.As(err, &me) || me.Code != code {
		t.Fatalf("%s: got %v, want MySQL error %d", what, err, code)
	}
}
