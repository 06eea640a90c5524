package tablet

// CloseBehindCache closes query's server-side statement while the
// connection still lists it, as a server that lost it would leave things
// (the next execution gets 1243).
func (c *Conn) CloseBehindCache(query string) error {
	st := c.stmts.byQuery[query]
	if st == nil {
		return nil
	}
	return c.closeStatement(st.id)
}
