package controlplane

import (
	"net/http"

	"github.com/edgelab/edgelab/controlplane/dashboard"
)

// The dashboard (package dashboard) is served on the metrics listener, next
// to /metrics: New builds its Hub on this Server (through the adapter in
// dashboard_source.go) and Run runs it, so it stops with the Server and
// ends its event streams before the listener shuts down.

// dashboardHandler builds the dashboard's Hub and returns its handler.
func (s *Server) dashboardHandler() (http.Handler, error) {
	hub, err := dashboard.NewHub(dashboard.Config{
		Source:     dashboardSource{s: s},
		FaultKinds: FaultKinds(),
		Logger:     s.log.With("part", "dashboard"),
	})
	if err != nil {
		return nil, err
	}
	s.dash = hub
	return dashboard.Handler(hub), nil
}
