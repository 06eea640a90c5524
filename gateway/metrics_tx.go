package gateway

// newTx starts a transaction of mode whose end the gateway's metrics count.
func (s *Server) newTx(mode txMode, isolation string) *transaction {
	t := newTransaction(mode, s.coord, isolation)
	t.metrics = s.metrics
	return t
}

// countEnd counts a commit (err nil) or a failed one; twoPhase: it wrote
// to several shards in twopc mode, so it prepared and recorded a decision.
func (t *transaction) countEnd(err error, twoPhase bool) {
	m := t.metrics
	if m == nil {
		return
	}
	outcome := "commit"
	if err != nil {
		outcome = "error"
	}
	m.transactions.WithLabelValues(t.mode.String(), outcome).Inc()
	if twoPhase {
		m.twopcCommits.WithLabelValues(outcome).Inc()
	}
}

// countRollback counts a transaction rolled back.
func (t *transaction) countRollback() {
	if m := t.metrics; m != nil {
		m.transactions.WithLabelValues(t.mode.String(), "rollback").Inc()
	}
}
