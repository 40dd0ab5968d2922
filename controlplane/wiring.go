package controlplane

import (
	"context"

	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// The read-only status RPCs are served by the Replicator (status.go,
// nodes.go, logs.go); the Server delegates to it.

// GetStatus reports the propagation of distributions to edge nodes.
func (s *Server) GetStatus(ctx context.Context, req *edgelabv1.GetStatusRequest) (*edgelabv1.GetStatusResponse, error) {
	return s.replicator.GetStatus(ctx, req)
}

// ListNodes lists the edge nodes known to the control planes.
func (s *Server) ListNodes(ctx context.Context, req *edgelabv1.ListNodesRequest) (*edgelabv1.ListNodesResponse, error) {
	return s.replicator.ListNodes(ctx, req)
}

// GetLogs returns stored function log lines.
func (s *Server) GetLogs(ctx context.Context, req *edgelabv1.GetLogsRequest) (*edgelabv1.GetLogsResponse, error) {
	return s.replicator.GetLogs(ctx, req)
}

// StreamLogs streams function log lines as they arrive.
func (s *Server) StreamLogs(req *edgelabv1.StreamLogsRequest, stream edgelabv1.ControlPlaneService_StreamLogsServer) error {
	return s.replicator.StreamLogs(req, stream)
}

// Replicator returns the server's replication engine.
func (s *Server) Replicator() *Replicator { return s.replicator }
