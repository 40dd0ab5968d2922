package controlplane

import (
	"net/http"

	"github.com/edgelab/edgelab/access"
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
		Authorize:  s.dashboardAuthorize(),
		Logger:     s.log.With("part", "dashboard"),
	})
	if err != nil {
		return nil, err
	}
	s.dash = hub
	return dashboard.Handler(hub), nil
}

// dashboardAuthorize is the role check of the dashboard's chaos actions:
// a bearer token with the operator role (nil, allowing everyone, with
// Insecure). The cross-origin and JSON checks are the dashboard's own.
func (s *Server) dashboardAuthorize() func(*http.Request) error {
	if s.cfg.Insecure {
		return nil
	}
	return func(r *http.Request) error {
		p, err := access.VerifyBearer(r.Context(), s.access, r.Header.Get("Authorization"))
		if err != nil {
			return err
		}
		if !p.Role.Holds(access.Operator) {
			return access.ErrMissingRole(p, access.Operator, "chaos actions")
		}
		return nil
	}
}
