package topo

import (
	"context"
	"fmt"
)

// The local provisioner is a `shardgate up` process that starts MySQL
// instances for the topology it runs: a resharding workflow whose targets
// have no tablets is then recorded for it to start them (Workflow.
// ProvisionTargets), instead of being refused. The key names the data
// directory of the cluster; it stays when `up` stops, so a workflow
// created meanwhile is provisioned at its next start.

func (s *Store) provisionerKey() string { return s.root + "/local/provisioner" }

// SetLocalProvisioner records that a local provisioner runs this
// topology; dir says where it keeps its instances.
func (s *Store) SetLocalProvisioner(ctx context.Context, dir string) error {
	if _, err := s.cli.Put(ctx, s.provisionerKey(), dir); err != nil {
		return fmt.Errorf("topo: set local provisioner: %w", err)
	}
	return nil
}

// LocalProvisioner returns the data directory of the topology's local
// provisioner; ErrNoNode if there is none (instances are registered by
// hand: `shardctl tablet add`).
func (s *Store) LocalProvisioner(ctx context.Context) (string, error) {
	data, _, err := s.getRaw(ctx, s.provisionerKey(), "local provisioner")
	if err != nil {
		return "", err
	}
	return string(data), nil
}
