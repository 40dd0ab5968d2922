package dashboard

import (
	"fmt"
	"slices"
	"sort"
	"strconv"

	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// functionsView joins the stored functions with the distributions that
// associate them and what the running nodes report about each version. A
// function the nodes report but the store no longer has is listed too.
func functionsView(fns []*edgelabv1.Function, dists []*edgelabv1.Distribution, t trafficTracker) FunctionsView {
	assoc, byVersion := associations(dists)
	latest := map[string]*edgelabv1.Function{}
	for _, f := range fns {
		latest[f.GetName()] = f
	}
	out := FunctionsView{Functions: []Function{}, Versions: []FunctionVersion{}, Events: t.eventLatencies()}
	sums := map[string]*Function{}
	sum := func(name string) *Function {
		if sums[name] == nil {
			sums[name] = &Function{Name: name, Nodes: []string{}, Associated: []string{}}
		}
		return sums[name]
	}
	for _, f := range fns {
		s := sum(f.GetName())
		s.LatestVersion, s.MemoryMB = f.GetLatestVersion(), f.GetConfig().GetMemoryMb()
	}
	for k, acc := range t.versionTotals() {
		v := acc.view(k)
		v.Latest = latest[k.name] != nil && latest[k.name].GetLatestVersion() == v.Version
		v.Associated = sorted(byVersion[fmt.Sprintf("%s:%d", k.name, v.Version)])
		out.Versions = append(out.Versions, v)
		s := sum(k.name)
		s.Invocations += v.Invocations
		s.ExecutionErrors += v.ExecutionErrors
		s.ValidationErrors += v.ValidationErrors
		s.LimitExceeded += v.LimitExceeded
		s.ColdStarts += v.ColdStarts
		s.Rate += v.Rate
		for _, n := range append(slices.Clone(v.Nodes), v.RanOn...) {
			if !slices.Contains(s.Nodes, n) {
				s.Nodes = append(s.Nodes, n)
			}
		}
	}
	for name, s := range sums {
		sort.Strings(s.Nodes)
		s.Associated = sorted(assoc[name])
		out.Functions = append(out.Functions, *s)
	}
	sort.Slice(out.Functions, func(i, j int) bool { return out.Functions[i].Name < out.Functions[j].Name })
	sort.Slice(out.Versions, func(i, j int) bool {
		a, b := out.Versions[i], out.Versions[j]
		if a.Function != b.Function {
			return a.Function < b.Function
		}
		return a.Version > b.Version
	})
	return out
}

// associations lists, per function, the version references distributions
// use ("auth:3 in demo") and, per version ("auth:3"), the distributions.
func associations(dists []*edgelabv1.Distribution) (byFn, byVersion map[string][]string) {
	byFn, byVersion = map[string][]string{}, map[string][]string{}
	for _, d := range dists {
		for _, b := range d.GetBehaviors() {
			for _, a := range b.GetFunctions() {
				ver := fmt.Sprintf("%s:%d", a.GetFunction(), a.GetVersion())
				if ref := ver + " in " + d.GetId(); !slices.Contains(byFn[a.GetFunction()], ref) {
					byFn[a.GetFunction()] = append(byFn[a.GetFunction()], ref)
				}
				if !slices.Contains(byVersion[ver], d.GetId()) {
					byVersion[ver] = append(byVersion[ver], d.GetId())
				}
			}
		}
	}
	return byFn, byVersion
}

// sorted is a sorted copy of list, never nil.
func sorted(list []string) []string {
	out := append([]string{}, list...)
	sort.Strings(out)
	return out
}

// view is the FunctionVersion row of the sums for k.
func (o *versionAcc) view(k fnKey) FunctionVersion {
	ver, _ := strconv.ParseInt(k.version, 10, 64)
	v := FunctionVersion{Function: k.name, Version: ver,
		Invocations: o.invocations, ExecutionErrors: o.execErr, ValidationErrors: o.valErr, LimitExceeded: o.limit,
		Timeouts: o.timeouts, MemoryExceeded: o.memKills, ColdStarts: o.cold, Rate: Num(o.rate),
		P50Ms: Num(o.dur.quantile(0.5) * 1000), P99Ms: Num(o.dur.quantile(0.99) * 1000), MemoryMB: none, MemoryUsedMB: none,
		Nodes: sorted(o.held), RanOn: sorted(o.ranOn)}
	if len(o.held) > 0 {
		v.MemoryMB = Num(o.memoryBytes / (1 << 20))
	}
	if o.usedBytes > 0 {
		v.MemoryUsedMB = Num(o.usedBytes / (1 << 20))
	}
	return v
}
