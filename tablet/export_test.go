package tablet

import "context"

// Test hooks into the package's internals.

// DialNoDeprecateEOF dials without CLIENT_DEPRECATE_EOF, so result sets
// end with EOF packets.
func DialNoDeprecateEOF(ctx context.Context, cfg ConnConfig) (*Conn, error) {
	return dial(ctx, cfg, dialOptions{noDeprecateEOF: true})
}

// DialMultiStatements dials with CLIENT_MULTI_STATEMENTS.
func DialMultiStatements(ctx context.Context, cfg ConnConfig) (*Conn, error) {
	return dial(ctx, cfg, dialOptions{multiStatements: true})
}

// DeprecateEOF tells whether CLIENT_DEPRECATE_EOF was negotiated.
func (c *Conn) DeprecateEOF() bool { return c.deprecateEOF }

// Alive runs the pool's liveness probe.
func (c *Conn) Alive() bool { return c.alive() }

// SetFindBinary replaces how m finds the MariaDB programs.
func (m *Mysqld) SetFindBinary(f func(name string) (string, error)) { m.findBinary = f }

// ExecuteBinary is StreamBinary buffered: the result's rows are copies.
func (c *Conn) ExecuteBinary(ctx context.Context, query string) (*Result, error) {
	r := new(Result)
	if err := c.exec(ctx, query, r, modeBuffer, true, nil, nil); err != nil {
		return nil, err
	}
	return r, nil
}
