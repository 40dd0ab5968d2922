package dashboard

import (
	"fmt"
	"slices"
	"sort"

	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// functionsView joins the stored functions with the distributions that
// associate them and what the running nodes report about them. A function
// the nodes report but the store no longer has is listed too.
func functionsView(fns []*edgelabv1.Function, dists []*edgelabv1.Distribution, t trafficTracker) FunctionsView {
	totals := t.functionTotals()
	assoc := map[string][]string{}
	for _, d := range dists {
		for _, b := range d.GetBehaviors() {
			for _, a := range b.GetFunctions() {
				ref := fmt.Sprintf("%s:%d in %s", a.GetFunction(), a.GetVersion(), d.GetId())
				if !slices.Contains(assoc[a.GetFunction()], ref) {
					assoc[a.GetFunction()] = append(assoc[a.GetFunction()], ref)
				}
			}
		}
	}
	out := FunctionsView{Functions: []Function{}, Events: t.eventLatencies()}
	seen := map[string]bool{}
	for _, f := range fns {
		v := Function{Name: f.GetName(), Nodes: []string{}}
		if tot := totals[f.GetName()]; tot != nil {
			v = *tot
		}
		v.LatestVersion = f.GetLatestVersion()
		v.MemoryMB = f.GetConfig().GetMemoryMb()
		seen[v.Name] = true
		out.Functions = append(out.Functions, v)
	}
	for name, tot := range totals {
		if !seen[name] {
			out.Functions = append(out.Functions, *tot)
		}
	}
	for i := range out.Functions {
		a := assoc[out.Functions[i].Name]
		sort.Strings(a)
		if a == nil {
			a = []string{}
		}
		out.Functions[i].Associated = a
	}
	sort.Slice(out.Functions, func(i, j int) bool { return out.Functions[i].Name < out.Functions[j].Name })
	return out
}
