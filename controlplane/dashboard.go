package controlplane

import (
	"context"
	"html/template"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/edgelab/edgelab/distribution"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// The dashboard is a server-rendered page on the metrics listener ("/"):
// nodes by region with their health, revision and attached replica, the
// deployment state of every distribution with its per-region propagation
// timeline, and the functions with their latest versions. It refreshes
// itself every two seconds; /metrics next to it has the rates.

type dashboardData struct {
	ServerID      string
	Now           string
	Revision      int64
	Regions       []dashboardRegion
	Distributions []*edgelabv1.DistributionStatus
	Functions     []*edgelabv1.Function
	Assoc         map[string][]string
	Err           string
}

type dashboardRegion struct {
	Name  string
	Nodes []*edgelabv1.Node
}

var dashboardTmpl = template.Must(template.New("dash").Funcs(template.FuncMap{
	"state": distribution.StateName,
	"ago": func(n *edgelabv1.Node) string {
		if n.GetLastSeen() == nil {
			return "-"
		}
		return time.Since(n.GetLastSeen().AsTime()).Round(100 * time.Millisecond).String()
	},
	"dur": func(d interface{ AsDuration() time.Duration }, ok bool) string {
		if !ok {
			return "-"
		}
		return "+" + d.AsDuration().Round(time.Millisecond).String()
	},
	"join": strings.Join,
}).Parse(`<!doctype html>
<html><head><meta charset="utf-8"><meta http-equiv="refresh" content="2">
<title>edgelab dashboard</title>
<style>
body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.3em} h2{font-size:1.1em;margin-top:1.5em}
table{border-collapse:collapse;margin:.5em 0} td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}
th{background:#f3f3f3} .Deployed,.ok{color:#080} .InProgress{color:#a60} .Failed,.bad{color:#c00}
.region{display:inline-block;vertical-align:top;margin:0 1em 1em 0}
</style></head><body>
<h1>edgelab — control plane {{.ServerID}}</h1>
<p>desired-state revision <b>{{.Revision}}</b> · {{.Now}} · <a href="/metrics">metrics</a></p>
{{if .Err}}<p class="bad">{{.Err}}</p>{{end}}
<h2>Edge nodes by region</h2>
{{range .Regions}}<div class="region"><b>{{.Name}}</b>
<table><tr><th>node</th><th>PoP</th><th>revision</th><th>replica</th><th>seen</th><th>health</th></tr>
{{range .Nodes}}<tr><td>{{.Id}}</td><td>{{.Pop}}</td><td>{{.AppliedRevision}}</td><td>{{.AttachedTo}}{{if not .Connected}} (detached){{end}}</td><td>{{ago .}}</td><td class="{{if eq .Health "ok"}}ok{{else}}bad{{end}}">{{.Health}}</td></tr>
{{end}}</table></div>{{else}}<p>no nodes</p>{{end}}
<h2>Distributions</h2>
{{range .Distributions}}<p><b>{{.DistributionId}}</b> <span class="{{state .State}}">{{state .State}}</span> at revision {{.Revision}} — functions: {{join (index $.Assoc .DistributionId) ", "}}</p>
<table><tr><th>region</th><th>nodes</th><th>acked</th><th>first ack</th><th>last ack</th><th>state</th></tr>
{{range .Regions}}<tr><td>{{.Region}}</td><td>{{.Nodes}}</td><td>{{.Acked}}</td><td>{{dur .FirstAck (ne .FirstAck nil)}}</td><td>{{dur .LastAck (ne .LastAck nil)}}</td><td class="{{state .State}}">{{state .State}}</td></tr>
{{end}}</table>
{{else}}<p>no distributions</p>{{end}}
<h2>Functions</h2>
<table><tr><th>name</th><th>latest version</th><th>draft sha256</th></tr>
{{range .Functions}}<tr><td>{{.Name}}</td><td>{{.LatestVersion}}</td><td>{{printf "%.12s" .DraftSha256}}</td></tr>
{{end}}</table>
</body></html>
`))

func (s *Server) dashboardHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		data := dashboardData{ServerID: s.id, Now: time.Now().Format(time.RFC3339), Assoc: map[string][]string{}}
		var errs []string
		if nodes, err := s.ListNodes(ctx, &edgelabv1.ListNodesRequest{}); err != nil {
			errs = append(errs, "nodes: "+err.Error())
		} else {
			by := map[string][]*edgelabv1.Node{}
			for _, n := range nodes.GetNodes() {
				by[n.GetRegion()] = append(by[n.GetRegion()], n)
			}
			for name, ns := range by {
				sort.Slice(ns, func(i, j int) bool { return ns[i].GetId() < ns[j].GetId() })
				data.Regions = append(data.Regions, dashboardRegion{Name: name, Nodes: ns})
			}
			sort.Slice(data.Regions, func(i, j int) bool { return data.Regions[i].Name < data.Regions[j].Name })
		}
		if st, err := s.GetStatus(ctx, &edgelabv1.GetStatusRequest{}); err != nil {
			errs = append(errs, "status: "+err.Error())
		} else {
			data.Revision = st.GetRevision()
			data.Distributions = st.GetDistributions()
		}
		if ds, err := s.ListDistributions(ctx, &edgelabv1.ListDistributionsRequest{}); err == nil {
			for _, d := range ds.GetDistributions() {
				seen := map[string]bool{}
				for _, b := range d.GetBehaviors() {
					for _, a := range b.GetFunctions() {
						ref := a.GetFunction() + ":" + strconv.FormatInt(a.GetVersion(), 10)
						if !seen[ref] {
							seen[ref] = true
							data.Assoc[d.GetId()] = append(data.Assoc[d.GetId()], ref)
						}
					}
				}
			}
		}
		if fs, err := s.ListFunctions(ctx, &edgelabv1.ListFunctionsRequest{}); err != nil {
			errs = append(errs, "functions: "+err.Error())
		} else {
			data.Functions = fs.GetFunctions()
		}
		data.Err = strings.Join(errs, "; ")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if err := dashboardTmpl.Execute(w, data); err != nil {
			s.log.Warn("dashboard render", "err", err)
		}
	})
}
