package certscmd

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"

	"sigs.k8s.io/yaml"

	"github.com/edgelab/edgelab/pki"
)

// Secret name prefixes: the lab CA's credentials and etcd's.
const (
	labSecretPrefix  = "edgelab-pki-"
	etcdSecretPrefix = "edgelab-etcd-pki-"
)

// ordinal is a StatefulSet pod's trailing -N.
var ordinal = regexp.MustCompile(`-[0-9]+$`)

// workload is the StatefulSet (or Deployment) a component's name belongs
// to: the name less a trailing pod ordinal.
func workload(name string) string { return ordinal.ReplaceAllString(name, "") }

// labSecret is the Secret holding the lab CA's credentials of the named
// component's workload.
func labSecret(name string) string { return labSecretPrefix + workload(name) }

// etcdSecret is the Secret holding etcd's CA's credentials of the named
// component's workload.
func etcdSecret(name string) string { return etcdSecretPrefix + workload(name) }

// secret is a v1 Secret as kubectl reads it; Data values are base64 in
// YAML (encoding/json's []byte form).
type secret struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Metadata   secretMeta        `json:"metadata"`
	Type       string            `json:"type"`
	Data       map[string][]byte `json:"data"`
}

type secretMeta struct {
	Name      string            `json:"name"`
	Namespace string            `json:"namespace"`
	Labels    map[string]string `json:"labels"`
}

// secretSet collects the Secrets' files in first-seen order.
type secretSet struct {
	namespace string
	order     []string
	byName    map[string]*secret
}

func (s *secretSet) add(name, key string, val []byte) {
	sec, ok := s.byName[name]
	if !ok {
		sec = &secret{APIVersion: "v1", Kind: "Secret", Type: "Opaque", Data: map[string][]byte{},
			Metadata: secretMeta{Name: name, Namespace: s.namespace, Labels: map[string]string{"app.kubernetes.io/part-of": "edgelab"}}}
		s.byName[name] = sec
		s.order = append(s.order, name)
	}
	sec.Data[key] = val
}

// addBundles puts every leaf's certificate, key and CA from dir into the
// Secret secretOf names.
func (s *secretSet) addBundles(dir string, leaves []pki.Leaf, secretOf func(string) string) error {
	for _, l := range leaves {
		b := pki.Bundle{Dir: dir, Name: l.Identity.Name}
		for key, path := range map[string]string{pki.CACertFile: b.CAFile(), b.Name + ".crt": b.CertFile(), b.Name + ".key": b.KeyFile()} {
			data, err := os.ReadFile(path)
			if err != nil {
				return fmt.Errorf("k8s secrets: %w", err)
			}
			s.add(secretOf(b.Name), key, data)
		}
	}
	return nil
}

// writeK8sSecrets writes the credentials just issued to f.k8sSecrets as
// Secrets, one per workload; control planes' hold the admin token too.
func writeK8sSecrets(f certsFlags, leaves, etcd []pki.Leaf, stdout io.Writer) error {
	set := &secretSet{namespace: f.k8sNamespace, byName: map[string]*secret{}}
	if err := set.addBundles(f.dir, leaves, labSecret); err != nil {
		return err
	}
	token, err := os.ReadFile(filepath.Join(f.dir, adminToken))
	if err != nil {
		return fmt.Errorf("k8s secrets: %w", err)
	}
	for _, l := range leaves {
		if l.Identity.Kind == pki.KindControlPlane {
			set.add(labSecret(l.Identity.Name), adminToken, token)
		}
	}
	if err := set.addBundles(filepath.Join(f.dir, etcdDir), etcd, etcdSecret); err != nil {
		return err
	}
	var out bytes.Buffer
	for _, name := range set.order {
		doc, err := yaml.Marshal(set.byName[name])
		if err != nil {
			return fmt.Errorf("k8s secret %s: %w", name, err)
		}
		out.WriteString("---\n")
		out.Write(doc)
	}
	if err := os.WriteFile(f.k8sSecrets, out.Bytes(), 0o600); err != nil {
		return fmt.Errorf("k8s secrets: %w", err)
	}
	_, err = fmt.Fprintf(stdout, "%d Secrets in %s (kubectl apply -f %s): %v\n", len(set.order), f.k8sSecrets, f.k8sSecrets, set.order)
	return err
}
