//go:build e2e

package k8s_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/edgelab/edgelab/cmd/edgectl/ctl"
	"github.com/edgelab/edgelab/internal/poll"
)

// dockerPod is one pod of the manifests as a container: a network alias
// per name the cluster's DNS would give it, its volumes as bind mounts and
// tmpfs, its args with $(POD_NAME) filled in.
type dockerPod struct {
	name    string
	aliases []string
	args    []string // docker run arguments before the image
	cmd     []string // entrypoint and args after the image
}

// k8sPods are the pods of the named workloads, with the Secrets and the
// ConfigMap written under dir for their mounts.
func k8sPods(t *testing.T, m *manifests, secrets map[string]corev1.Secret, dir string, workloads ...string) []dockerPod {
	t.Helper()
	var out []dockerPod
	for _, name := range workloads {
		w := findWorkload(t, m, name)
		for i := range w.replicas {
			p := dockerPod{name: fmt.Sprintf("%s-%d", w.name, i)}
			if w.serviceName != "" {
				p.aliases = append(p.aliases, p.name+"."+w.serviceName)
			}
			for _, s := range m.services {
				if subset(s.Spec.Selector, w.template.Labels) {
					p.aliases = append(p.aliases, s.Name)
				}
			}
			c := w.template.Spec.Containers[0]
			p.args = append(p.args, "--user", "65532:65532", "--read-only", "-e", "POD_NAME="+p.name)
			p.args = append(p.args, mounts(t, w, c, secrets, m, dir)...)
			p.cmd = append(append([]string{}, c.Command...), strings.Split(strings.ReplaceAll(strings.Join(c.Args, "\x00"), "$(POD_NAME)", p.name), "\x00")...)
			out = append(out, p)
		}
	}
	return out
}

func findWorkload(t *testing.T, m *manifests, name string) workload {
	t.Helper()
	for _, w := range m.workloads {
		if w.name == name {
			return w
		}
	}
	t.Fatalf("no workload %s in the manifests", name)
	return workload{}
}

// mounts turns a container's volume mounts into docker flags: Secrets and
// ConfigMaps become read-only bind mounts of their files, everything else
// (emptyDir, claim templates) a tmpfs.
func mounts(t *testing.T, w workload, c corev1.Container, secrets map[string]corev1.Secret, m *manifests, dir string) []string {
	t.Helper()
	vols := map[string]corev1.Volume{}
	for _, v := range w.template.Spec.Volumes {
		vols[v.Name] = v
	}
	var args []string
	for _, vm := range c.VolumeMounts {
		v := vols[vm.Name]
		var files map[string][]byte
		switch {
		case v.Secret != nil:
			files = secrets[v.Secret.SecretName].Data
		case v.ConfigMap != nil:
			files = map[string][]byte{}
			for k, s := range m.configMaps[v.ConfigMap.Name].Data {
				files[k] = []byte(s)
			}
		default:
			// Owned by the pods' user, as fsGroup makes a volume.
			args = append(args, "--tmpfs", vm.MountPath+":uid=65532,gid=65532")
			continue
		}
		src := filepath.Join(dir, w.name, vm.Name)
		if err := os.MkdirAll(src, 0o755); err != nil {
			t.Fatal(err)
		}
		for k, data := range files {
			if err := os.WriteFile(filepath.Join(src, k), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		args = append(args, "-v", src+":"+vm.MountPath+":ro")
	}
	return args
}

func docker(ctx context.Context, args ...string) (string, error) {
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return strings.TrimSpace(out.String()), err
}

// TestK8sManifestsRunInDocker runs the manifests' etcd, control planes, a
// PoP and the REC as containers, with the args, Secrets (from pki.sh's
// flags) and ConfigMap the manifests give them and the DNS names a cluster
// would (pod.service, service): etcd forms its TLS cluster, the control
// planes reach it with their client certificates, and both nodes come up
// over mTLS under the ids their certificates name. Needs Docker and the
// image (EDGELAB_IMAGE, as scripts/images.sh builds it).
func TestK8sManifestsRunInDocker(t *testing.T) {
	image := os.Getenv("EDGELAB_IMAGE")
	if image == "" {
		t.Skip("EDGELAB_IMAGE is not set: build the image with scripts/images.sh and name it")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	m := load(t)
	secrets := runPKIScript(t)
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	net := fmt.Sprintf("edgelab-k8s-%d", os.Getpid())
	if out, err := docker(ctx, "network", "create", net); err != nil {
		t.Fatalf("docker network create: %v: %s", err, out)
	}
	t.Cleanup(func() { _, _ = docker(context.Background(), "network", "rm", net) })
	var cp string
	for _, p := range k8sPods(t, m, secrets, dir, "etcd", "controlplane", "rec-us-east-1", "edge-us-east-1") {
		args := append([]string{"run", "-d", "--name", net + "-" + p.name, "--network", net}, p.args...)
		for _, a := range p.aliases {
			args = append(args, "--network-alias", a)
		}
		if p.name == "controlplane-0" {
			args = append(args, "-p", "127.0.0.1::7070")
		}
		args = append(append(args, "--entrypoint", p.cmd[0], image), p.cmd[1:]...)
		if out, err := docker(ctx, args...); err != nil {
			t.Fatalf("docker run %s: %v: %s", p.name, err, out)
		}
		name := net + "-" + p.name
		t.Cleanup(func() {
			if t.Failed() {
				logs, _ := docker(context.Background(), "logs", "--tail", "15", name)
				t.Logf("%s:\n%s", name, logs)
			}
			_, _ = docker(context.Background(), "rm", "-f", name)
		})
		if p.name == "controlplane-0" {
			cp = name
		}
	}
	port, err := docker(ctx, "port", cp, "7070")
	if err != nil {
		t.Fatalf("docker port: %v: %s", err, port)
	}
	checkNodesUp(t, strings.Split(port, "\n")[0], secrets, dir)
}

// checkNodesUp polls `edgectl nodes` on the control plane at addr until
// both nodes are connected, as the admin of pki.sh's Secrets.
func checkNodesUp(t *testing.T, addr string, secrets map[string]corev1.Secret, dir string) {
	t.Helper()
	cpSecret := secrets["edgelab-pki-controlplane"]
	caFile := filepath.Join(dir, "edgectl-ca.crt")
	if err := os.WriteFile(caFile, cpSecret.Data["ca.crt"], 0o600); err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(string(cpSecret.Data["admin.token"]))
	var out bytes.Buffer
	poll.True(t, 3*time.Minute, "edge-us-east-1-0 and rec-us-east-1-0 connected over mTLS", func() bool {
		out.Reset()
		args := []string{"nodes", "--endpoint", addr, "--ca", caFile, "--token", token}
		if ctl.Execute(context.Background(), args, &out, &out) != 0 {
			return false
		}
		return connected(out.String(), "edge-us-east-1-0") && connected(out.String(), "rec-us-east-1-0")
	})
	t.Logf("edgectl nodes:\n%s", out.String())
}

// connected reports whether `edgectl nodes` output lists node as connected.
func connected(nodes, node string) bool {
	for l := range strings.SplitSeq(nodes, "\n") {
		f := strings.Fields(l)
		if len(f) > 6 && f[0] == node && f[6] == "true" {
			return true
		}
	}
	return false
}
