package k8s_test

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"

	"github.com/edgelab/edgelab/topology"
)

// kustomization is the part of kustomize's Kustomization these manifests use;
// decoded strictly so a typo fails the test.
type kustomization struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace"`
	Labels     []struct {
		Pairs map[string]string `json:"pairs"`
	} `json:"labels"`
	Resources []string `json:"resources"`
	Images    []struct {
		Name    string `json:"name"`
		NewName string `json:"newName,omitempty"`
		NewTag  string `json:"newTag,omitempty"`
	} `json:"images"`
}

// workload is a Deployment or StatefulSet reduced to what the checks need.
type workload struct {
	kind, name  string
	selector    *metav1.LabelSelector
	template    corev1.PodTemplateSpec
	claimNames  []string
	serviceName string
	replicas    int32
}

type manifests struct {
	services   []corev1.Service
	configMaps map[string]corev1.ConfigMap
	workloads  []workload
	namespaces []corev1.Namespace
}

var docSep = regexp.MustCompile(`(?m)^---\s*$`)

// decode strictly decodes one YAML document into the typed Kubernetes object
// its kind names.
func decode(m *manifests, doc []byte) error {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		return fmt.Errorf("reading kind: %w", err)
	}
	strict := func(into any) error {
		if err := yaml.UnmarshalStrict(doc, into); err != nil {
			return fmt.Errorf("%s: %w", tm.Kind, err)
		}
		return nil
	}
	switch tm.APIVersion + "/" + tm.Kind {
	case "v1/Service":
		var s corev1.Service
		if err := strict(&s); err != nil {
			return err
		}
		m.services = append(m.services, s)
	case "v1/ConfigMap":
		var c corev1.ConfigMap
		if err := strict(&c); err != nil {
			return err
		}
		if _, dup := m.configMaps[c.Name]; dup {
			return fmt.Errorf("duplicate ConfigMap %q", c.Name)
		}
		m.configMaps[c.Name] = c
	case "v1/Namespace":
		var n corev1.Namespace
		if err := strict(&n); err != nil {
			return err
		}
		m.namespaces = append(m.namespaces, n)
	case "apps/v1/Deployment":
		var d appsv1.Deployment
		if err := strict(&d); err != nil {
			return err
		}
		m.workloads = append(m.workloads, workload{kind: "Deployment", name: d.Name, selector: d.Spec.Selector, template: d.Spec.Template, replicas: replicas(d.Spec.Replicas)})
	case "apps/v1/StatefulSet":
		var s appsv1.StatefulSet
		if err := strict(&s); err != nil {
			return err
		}
		w := workload{kind: "StatefulSet", name: s.Name, selector: s.Spec.Selector, template: s.Spec.Template, serviceName: s.Spec.ServiceName, replicas: replicas(s.Spec.Replicas)}
		for _, c := range s.Spec.VolumeClaimTemplates {
			w.claimNames = append(w.claimNames, c.Name)
		}
		m.workloads = append(m.workloads, w)
	default:
		return fmt.Errorf("unexpected kind %s/%s", tm.APIVersion, tm.Kind)
	}
	return nil
}

// replicas is a workload's replica count (Kubernetes' default 1).
func replicas(r *int32) int32 {
	if r == nil {
		return 1
	}
	return *r
}

func loadKustomization(t *testing.T) kustomization {
	t.Helper()
	data, err := os.ReadFile("kustomization.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var k kustomization
	if err := yaml.UnmarshalStrict(data, &k); err != nil {
		t.Fatalf("kustomization.yaml: %v", err)
	}
	return k
}

func load(t *testing.T) *manifests {
	t.Helper()
	m := &manifests{configMaps: map[string]corev1.ConfigMap{}}
	for _, f := range loadKustomization(t).Resources {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatalf("resource %s: %v", f, err)
		}
		for i, doc := range docSep.Split(string(data), -1) {
			if strings.TrimSpace(stripComments(doc)) == "" {
				continue
			}
			if err := decode(m, []byte(doc)); err != nil {
				t.Fatalf("%s document %d: %v", f, i, err)
			}
		}
	}
	return m
}

func stripComments(doc string) string {
	var b strings.Builder
	for l := range strings.SplitSeq(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

func TestKustomizationListsEveryFile(t *testing.T) {
	k := loadKustomization(t)
	if k.APIVersion != "kustomize.config.k8s.io/v1beta1" || k.Kind != "Kustomization" {
		t.Fatalf("kustomization.yaml: apiVersion/kind = %s/%s", k.APIVersion, k.Kind)
	}
	files, err := filepath.Glob("*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	files = slices.DeleteFunc(files, func(f string) bool { return f == "kustomization.yaml" })
	listed := slices.Clone(k.Resources)
	sort.Strings(files)
	sort.Strings(listed)
	if !slices.Equal(files, listed) {
		t.Fatalf("kustomization resources %v, files %v", listed, files)
	}
}

func TestDecodeIsStrict(t *testing.T) {
	tests := []struct {
		name string
		doc  string
	}{
		{"unknown field", "apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {selectr: {a: b}}\n"},
		{"wrong type", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {replicas: two}\n"},
		{"duplicate key", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\nmetadata: {name: y}\n"},
		{"unknown kind", "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\n"},
		{"not yaml", "apiVersion: [\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := &manifests{configMaps: map[string]corev1.ConfigMap{}}
			if err := decode(m, []byte(tc.doc)); err == nil {
				t.Fatalf("decode accepted %q", tc.doc)
			}
		})
	}
}

func TestWorkloadsSelectTheirPods(t *testing.T) {
	m := load(t)
	if len(m.workloads) == 0 {
		t.Fatal("no workloads")
	}
	for _, w := range m.workloads {
		if w.selector == nil || len(w.selector.MatchLabels) == 0 {
			t.Errorf("%s %s: empty selector", w.kind, w.name)
			continue
		}
		if !subset(w.selector.MatchLabels, w.template.Labels) {
			t.Errorf("%s %s: selector %v does not match template labels %v", w.kind, w.name, w.selector.MatchLabels, w.template.Labels)
		}
		if w.kind == "StatefulSet" {
			svc := findService(m, w.serviceName)
			if svc == nil || svc.Spec.ClusterIP != corev1.ClusterIPNone {
				t.Errorf("StatefulSet %s: serviceName %q is not a headless Service", w.name, w.serviceName)
			}
		}
		// Every mount names a volume or claim template; every ConfigMap exists.
		vols := map[string]corev1.Volume{}
		for _, v := range w.template.Spec.Volumes {
			vols[v.Name] = v
			if v.ConfigMap != nil {
				if _, ok := m.configMaps[v.ConfigMap.Name]; !ok {
					t.Errorf("%s %s: volume %s references missing ConfigMap %q", w.kind, w.name, v.Name, v.ConfigMap.Name)
				}
			}
		}
		for _, c := range w.template.Spec.Containers {
			if c.SecurityContext == nil || c.SecurityContext.Privileged != nil && *c.SecurityContext.Privileged {
				t.Errorf("%s %s/%s: privileged or no securityContext", w.kind, w.name, c.Name)
			}
			for _, vm := range c.VolumeMounts {
				if _, ok := vols[vm.Name]; !ok && !slices.Contains(w.claimNames, vm.Name) {
					t.Errorf("%s %s/%s: mount %q has no volume", w.kind, w.name, c.Name, vm.Name)
				}
			}
			for _, e := range c.Env {
				if e.ValueFrom != nil && e.ValueFrom.ConfigMapKeyRef != nil {
					ref := e.ValueFrom.ConfigMapKeyRef
					if cm, ok := m.configMaps[ref.Name]; !ok || cm.Data[ref.Key] == "" {
						t.Errorf("%s %s/%s: env %s references missing %s/%s", w.kind, w.name, c.Name, e.Name, ref.Name, ref.Key)
					}
				}
			}
			// Files the args name under a ConfigMap mount must be keys of it.
			for _, a := range c.Args {
				_, val, ok := strings.Cut(a, "=")
				if !ok || !strings.HasPrefix(val, "/") {
					continue
				}
				for _, vm := range c.VolumeMounts {
					v := vols[vm.Name]
					if v.ConfigMap == nil || !strings.HasPrefix(val, vm.MountPath+"/") {
						continue
					}
					key := strings.TrimPrefix(val, vm.MountPath+"/")
					if _, ok := m.configMaps[v.ConfigMap.Name].Data[key]; !ok {
						t.Errorf("%s %s: arg %s names key %q missing from ConfigMap %s", w.kind, w.name, a, key, v.ConfigMap.Name)
					}
				}
			}
		}
	}
}

func TestServicesSelectPodsAndPorts(t *testing.T) {
	m := load(t)
	for _, s := range m.services {
		if len(s.Spec.Selector) == 0 {
			t.Errorf("Service %s: no selector", s.Name)
			continue
		}
		var matched []workload
		for _, w := range m.workloads {
			if subset(s.Spec.Selector, w.template.Labels) {
				matched = append(matched, w)
			}
		}
		if len(matched) == 0 {
			t.Errorf("Service %s: selector %v matches no pod template", s.Name, s.Spec.Selector)
			continue
		}
		for _, p := range s.Spec.Ports {
			for _, w := range matched {
				if !hasContainerPort(w, p.TargetPort, p.Port) {
					t.Errorf("Service %s port %s: targetPort %s not a container port of %s %s", s.Name, p.Name, p.TargetPort.String(), w.kind, w.name)
				}
			}
		}
	}
}

// TestArgsNameExistingServices checks the host:port endpoints the binaries
// are given (--edges, --controlplanes, --etcd-endpoints, --initial-cluster...)
// against the Services and their ports.
func TestArgsNameExistingServices(t *testing.T) {
	m := load(t)
	hostPort := regexp.MustCompile(`(?:https?://)?([a-z0-9$()._-]+):(\d+)`)
	flags := []string{"--edges=", "--controlplanes=", "--rec=", "--etcd-endpoints=", "--initial-cluster=", "--advertise-client-urls=", "--initial-advertise-peer-urls="}
	checked := 0
	for _, w := range m.workloads {
		for _, c := range w.template.Spec.Containers {
			for _, a := range c.Args {
				if !slices.ContainsFunc(flags, func(f string) bool { return strings.HasPrefix(a, f) }) {
					continue
				}
				for _, mt := range hostPort.FindAllStringSubmatch(a, -1) {
					host, port := mt[1], mt[2]
					if net.ParseIP(host) != nil || strings.Contains(host, "$(POD_IP)") {
						continue
					}
					// pod.service (StatefulSet pods) resolve through the headless Service.
					name := host
					if i := strings.LastIndex(host, "."); i >= 0 {
						name = host[i+1:]
					}
					svc := findService(m, name)
					if svc == nil {
						t.Errorf("%s %s: %s names unknown Service %q", w.kind, w.name, a, name)
						continue
					}
					pn, _ := strconv.Atoi(port)
					if !slices.ContainsFunc(svc.Spec.Ports, func(p corev1.ServicePort) bool { return int(p.Port) == pn }) {
						t.Errorf("%s %s: Service %s has no port %d (arg %s)", w.kind, w.name, name, pn, a)
					}
					checked++
				}
			}
		}
	}
	if checked < 10 {
		t.Fatalf("only %d endpoints checked; the arg patterns drifted", checked)
	}
}

func TestTopologyAndEdgesAgree(t *testing.T) {
	m := load(t)
	cm, ok := m.configMaps["edgelab-config"]
	if !ok {
		t.Fatal("ConfigMap edgelab-config missing")
	}
	if !bytes.Equal([]byte(cm.Data["topology.yaml"]), topology.DefaultYAML()) {
		t.Errorf("ConfigMap topology.yaml differs from topology/default.yaml")
	}
	topo, err := topology.Parse([]byte(cm.Data["topology.yaml"]))
	if err != nil {
		t.Fatalf("ConfigMap topology.yaml: %v", err)
	}
	if !strings.Contains(cm.Data["distribution.yaml"], "id: demo") {
		t.Errorf("sample distribution missing")
	}
	regions := map[string]bool{}
	for _, w := range m.workloads {
		r, ok := w.template.Labels["edgelab.io/region"]
		if !ok {
			continue
		}
		if !topo.HasRegion(r) {
			t.Errorf("%s %s: region label %q not in topology", w.kind, w.name, r)
		}
		if !slices.Contains(w.template.Spec.Containers[0].Args, "--region="+r) {
			t.Errorf("%s %s: --region arg does not match label %q", w.kind, w.name, r)
		}
		regions[r] = true
	}
	if len(regions) < 5 {
		t.Errorf("edge nodes in %d regions, want at least 5", len(regions))
	}
	// The gateway routes to every region's Service.
	for _, w := range m.workloads {
		if w.name != "gateway" {
			continue
		}
		args := strings.Join(w.template.Spec.Containers[0].Args, " ")
		for r := range regions {
			if !strings.Contains(args, "=http://edge-"+r+":") {
				t.Errorf("gateway --edges lacks region %s", r)
			}
		}
	}
}

func subset(sel, labels map[string]string) bool {
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func findService(m *manifests, name string) *corev1.Service {
	for i := range m.services {
		if m.services[i].Name == name {
			return &m.services[i]
		}
	}
	return nil
}

func hasContainerPort(w workload, target intstr.IntOrString, port int32) bool {
	for _, c := range w.template.Spec.Containers {
		for _, cp := range c.Ports {
			switch {
			case target.Type == intstr.String && target.StrVal != "" && cp.Name == target.StrVal:
				return true
			case target.Type == intstr.Int && target.IntVal != 0 && cp.ContainerPort == target.IntVal:
				return true
			case target.Type == intstr.Int && target.IntVal == 0 && cp.ContainerPort == port:
				return true
			}
		}
	}
	return false
}
