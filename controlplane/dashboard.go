package controlplane

import (
	"context"
	"net/http"

	"google.golang.org/grpc/status"

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
		Audit:      s.dashboardAudit(),
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
func (s *Server) dashboardAuthorize() func(*http.Request) (dashboard.Caller, error) {
	if s.cfg.Insecure {
		return nil
	}
	return func(r *http.Request) (dashboard.Caller, error) {
		p, err := access.VerifyBearer(r.Context(), s.access, r.Header.Get("Authorization"))
		if err != nil {
			return dashboard.Caller{}, err
		}
		if !p.Role.Holds(access.Operator) {
			return dashboard.Caller{}, access.ErrMissingRole(p, access.Operator, "chaos actions")
		}
		return dashboard.Caller{Name: p.String(), Role: string(p.Role)}, nil
	}
}

// dashboardAudit writes the dashboard's chaos actions to the audit log, as
// the guard writes gRPC calls (method dashboard/<action>). Nil with
// Insecure, which audits nothing.
func (s *Server) dashboardAudit() func(context.Context, dashboard.Caller, string, string, error) {
	if s.cfg.Insecure {
		return nil
	}
	return func(ctx context.Context, c dashboard.Caller, action, target string, err error) {
		e := access.AuditEntry{Time: s.access.now().UTC(), Principal: c.Name, Role: access.Role(c.Role),
			Method: "dashboard/" + action, Target: target, Code: status.Code(err).String()}
		if err != nil {
			e.Error = status.Convert(err).Message()
		}
		s.access.Record(ctx, e)
	}
}
