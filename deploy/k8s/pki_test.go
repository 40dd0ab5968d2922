package k8s_test

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/edgelab/edgelab/internal/certscmd"
	"github.com/edgelab/edgelab/pki"
)

// pkiScriptFlags are the `edgelab certs` flags deploy/k8s/pki.sh passes
// (its --flag=value continuation lines).
func pkiScriptFlags(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile("pki.sh")
	if err != nil {
		t.Fatal(err)
	}
	var flags []string
	for l := range strings.SplitSeq(string(data), "\n") {
		l = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(l), `\`))
		if strings.HasPrefix(l, "--") && strings.Contains(l, "=") {
			flags = append(flags, l)
		}
	}
	if len(flags) < 3 {
		t.Fatalf("pki.sh: found flags %v; want --controlplanes, --nodes and --etcd-members", flags)
	}
	return flags
}

// runPKIScript runs `edgelab certs` with pki.sh's flags and returns the
// Secrets it wrote, by name.
func runPKIScript(t *testing.T) map[string]corev1.Secret {
	t.Helper()
	dir := t.TempDir()
	out := filepath.Join(dir, "secrets.yaml")
	cmd := certscmd.New(io.Discard)
	cmd.SetArgs(append(pkiScriptFlags(t), "--dir="+dir, "--k8s-secrets="+out))
	if err := cmd.Execute(); err != nil {
		t.Fatalf("edgelab certs with pki.sh's flags: %v", err)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	secrets := map[string]corev1.Secret{}
	for _, doc := range docSep.Split(string(data), -1) {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		var s corev1.Secret
		if err := yaml.UnmarshalStrict([]byte(doc), &s); err != nil {
			t.Fatalf("%s: %v", out, err)
		}
		secrets[s.Name] = s
	}
	return secrets
}

// pod is one replica of a workload's container, its args with $(POD_NAME)
// filled in, and the Secrets mounted at each path.
type pod struct {
	name    string
	command string
	args    map[string]string
	secrets map[string]corev1.Secret // mount path -> Secret
}

func (p pod) String() string { return "pod " + p.name }

// pods expands every workload into its replicas' pods, failing on a Secret
// volume pki.sh does not write.
func pods(t *testing.T, m *manifests, secrets map[string]corev1.Secret) []pod {
	t.Helper()
	var all []pod
	for _, w := range m.workloads {
		vols := map[string]string{}
		for _, v := range w.template.Spec.Volumes {
			if v.Secret == nil {
				continue
			}
			if _, ok := secrets[v.Secret.SecretName]; !ok {
				t.Errorf("%s %s: volume %s mounts Secret %s, which pki.sh does not write", w.kind, w.name, v.Name, v.Secret.SecretName)
			}
			vols[v.Name] = v.Secret.SecretName
		}
		for i := range w.replicas {
			for _, c := range w.template.Spec.Containers {
				p := pod{name: fmt.Sprintf("%s-%d", w.name, i), command: strings.Join(c.Command, " "), args: map[string]string{}, secrets: map[string]corev1.Secret{}}
				for _, a := range c.Args {
					if a == "--insecure" {
						t.Errorf("%s %s: --insecure", w.kind, w.name)
					}
					k, v, _ := strings.Cut(strings.ReplaceAll(a, "$(POD_NAME)", p.name), "=")
					p.args[k] = v
				}
				for _, vm := range c.VolumeMounts {
					if s, ok := vols[vm.Name]; ok {
						p.secrets[vm.MountPath] = secrets[s]
					}
				}
				all = append(all, p)
			}
		}
	}
	return all
}

// credential is the certificate in Secret dir (a mount path of p) named
// name, with its identity; it fails the test when p lacks it.
func (p pod) credential(t *testing.T, dir, name string) (*tls.Certificate, pki.Identity) {
	t.Helper()
	s, ok := p.secrets[dir]
	if !ok {
		t.Fatalf("%v: no Secret mounted at %s", p, dir)
	}
	c, err := tls.X509KeyPair(s.Data[name+".crt"], s.Data[name+".key"])
	if err != nil {
		t.Fatalf("%v: Secret %s has no usable %s.crt/%s.key: %v", p, s.Name, name, name, err)
	}
	if len(s.Data[pki.CACertFile]) == 0 {
		t.Fatalf("%v: Secret %s has no %s", p, s.Name, pki.CACertFile)
	}
	id, err := pki.IdentityOf(c.Leaf)
	if err != nil {
		t.Fatalf("%v: %v", p, err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(s.Data[pki.CACertFile])
	if _, err := c.Leaf.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		t.Fatalf("%v: %s.crt does not verify against its Secret's CA: %v", p, name, err)
	}
	return &c, id
}

// ca is the CA certificate of the Secret mounted at dir.
func (p pod) ca(dir string) string { return string(p.secrets[dir].Data[pki.CACertFile]) }

func hostOf(t *testing.T, u string) string {
	t.Helper()
	if !strings.Contains(u, "://") {
		u = "tcp://" + u
	}
	parsed, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	return parsed.Hostname()
}

// TestPKIScriptCoversEveryPod runs `edgelab certs` as deploy/k8s/pki.sh
// does and checks each pod against what it gets: every Secret a pod mounts
// exists; a node's certificate names its id (the pod's name) and region
// and is valid for the host it advertises; a control plane's and an etcd
// member's are valid for the hosts the others dial them by; the control
// planes hold the admin token and an etcd client certificate.
func TestPKIScriptCoversEveryPod(t *testing.T) {
	m := load(t)
	secrets := runPKIScript(t)
	var dialed []string                      // "kind host" the pods dial over TLS
	served := map[string]*x509.Certificate{} // "kind pod" -> its certificate
	etcdCAs := map[string][]string{}         // etcd's CA as members and control planes hold it -> who
	for _, p := range pods(t, m, secrets) {
		switch p.command {
		case "/bin/edgenode":
			checkNode(t, p)
			for _, cp := range strings.Split(p.args["--controlplanes"], ",") {
				dialed = append(dialed, "controlplane "+hostOf(t, cp))
			}
		case "/bin/controlplane":
			served["controlplane "+p.name] = checkControlPlane(t, p)
			etcdCAs[p.ca(p.args["--etcd-pki-dir"])] = append(etcdCAs[p.ca(p.args["--etcd-pki-dir"])], p.name)
			for _, e := range strings.Split(p.args["--etcd-endpoints"], ",") {
				dialed = append(dialed, "etcd "+hostOf(t, e))
			}
		case "/bin/etcd":
			served["etcd "+p.name] = checkEtcdMember(t, p)
			etcdCAs[p.ca(filepath.Dir(p.args["--cert-file"]))] = append(etcdCAs[p.ca(filepath.Dir(p.args["--cert-file"]))], p.name)
		}
	}
	if len(served) < 5 || len(dialed) < 10 {
		t.Fatalf("%d certificates served, %d hosts dialed; the manifests or the checks drifted", len(served), len(dialed))
	}
	if len(etcdCAs) != 1 {
		t.Errorf("etcd's members and its clients hold %d different CAs, want one: %v", len(etcdCAs), slices.Collect(maps.Values(etcdCAs)))
	}
	// A dialed host pod.service must be covered by that pod's certificate.
	for _, d := range dialed {
		kind, host, _ := strings.Cut(d, " ")
		podName, _, _ := strings.Cut(host, ".")
		c, ok := served[kind+" "+podName]
		if !ok {
			t.Errorf("pods dial %s %s, which is no %s pod", kind, host, kind)
			continue
		}
		if err := c.VerifyHostname(host); err != nil {
			t.Errorf("pods dial %s %s: %v", kind, host, err)
		}
	}
}

func checkNode(t *testing.T, p pod) {
	t.Helper()
	if p.args["--id"] != p.name {
		t.Errorf("%v: --id %q, want the pod's name (it names the certificate)", p, p.args["--id"])
	}
	c, id := p.credential(t, p.args["--pki-dir"], p.name)
	if id.Kind != pki.KindNode || id.Name != p.name || id.Region != p.args["--region"] {
		t.Errorf("%v: certificate %v, want node %s in region %s", p, id, p.name, p.args["--region"])
	}
	if err := c.Leaf.VerifyHostname(hostOf(t, p.args["--advertise-url"])); err != nil {
		t.Errorf("%v: advertised URL %s: %v", p, p.args["--advertise-url"], err)
	}
}

// checkControlPlane returns its API certificate.
func checkControlPlane(t *testing.T, p pod) *x509.Certificate {
	t.Helper()
	dir := p.args["--pki-dir"]
	if _, ok := p.secrets[dir].Data[filepath.Base(p.args["--admin-token-file"])]; !ok || filepath.Dir(p.args["--admin-token-file"]) != dir {
		t.Errorf("%v: --admin-token-file %s is not in its Secret", p, p.args["--admin-token-file"])
	}
	c, id := p.credential(t, dir, p.args["--id"])
	if id.Kind != pki.KindControlPlane || id.Name != p.name {
		t.Errorf("%v: certificate %v, want control plane %s", p, id, p.name)
	}
	if _, eid := p.credential(t, p.args["--etcd-pki-dir"], p.name); eid.Kind != pki.KindControlPlane {
		t.Errorf("%v: etcd client certificate %v", p, eid)
	}
	if p.ca(p.args["--etcd-pki-dir"]) == p.ca(dir) {
		t.Errorf("%v: --etcd-pki-dir %s holds the lab CA, not etcd's own", p, p.args["--etcd-pki-dir"])
	}
	return c.Leaf
}

// checkEtcdMember returns its certificate.
func checkEtcdMember(t *testing.T, p pod) *x509.Certificate {
	t.Helper()
	for _, f := range []string{"--advertise-client-urls", "--listen-client-urls", "--listen-peer-urls", "--initial-advertise-peer-urls"} {
		if !strings.HasPrefix(p.args[f], "https://") {
			t.Errorf("%v: %s=%s is not TLS", p, f, p.args[f])
		}
	}
	if _, ok := p.args["--peer-client-cert-auth"]; !ok {
		t.Errorf("%v: no --peer-client-cert-auth", p)
	}
	dir := filepath.Dir(p.args["--cert-file"])
	if p.args["--trusted-ca-file"] != filepath.Join(dir, pki.CACertFile) || p.args["--key-file"] != filepath.Join(dir, p.name+".key") {
		t.Errorf("%v: --trusted-ca-file %s, --key-file %s: not the Secret's files", p, p.args["--trusted-ca-file"], p.args["--key-file"])
	}
	c, id := p.credential(t, dir, strings.TrimSuffix(filepath.Base(p.args["--cert-file"]), ".crt"))
	if id.Kind != pki.KindEtcd || id.Name != p.name {
		t.Errorf("%v: certificate %v, want etcd member %s", p, id, p.name)
	}
	for _, f := range []string{"--advertise-client-urls", "--initial-advertise-peer-urls"} {
		if err := c.Leaf.VerifyHostname(hostOf(t, p.args[f])); err != nil {
			t.Errorf("%v: %s: %v", p, f, err)
		}
	}
	return c.Leaf
}
