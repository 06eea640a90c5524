//go:build !unix

package tablet

// probe is unused where the socket can't be probed.
type probe struct{}

// alive reports a connection that is not known broken as alive where the
// socket can't be probed without blocking.
func (c *Conn) alive() bool { return !c.broken }
