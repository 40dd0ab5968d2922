package ctl

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/edgelab/edgelab/access"
	"github.com/edgelab/edgelab/pki"
)

// Environment variables edgectl reads its credentials from.
const (
	TokenEnv    = "EDGELAB_TOKEN"
	CAEnv       = "EDGELAB_CA"
	CertEnv     = "EDGELAB_CERT"
	KeyEnv      = "EDGELAB_KEY"
	InsecureEnv = "EDGELAB_INSECURE"
	ConfigEnv   = "EDGELAB_CONFIG"
	LabFileEnv  = "EDGELAB_LAB"
)

// DefaultLabFile is where `edgelab up` (run from the same directory) writes
// the lab's endpoints and admin credentials.
const DefaultLabFile = ".edgelab/lab.json"

// Profile is where edgectl finds a control plane and how it proves who it
// is. It is what `edgectl login` writes to the config file (mode 0600).
type Profile struct {
	Endpoint string `json:"endpoint,omitempty"`
	Token    string `json:"token,omitempty"`
	CAFile   string `json:"caFile,omitempty"`
	CertFile string `json:"certFile,omitempty"`
	KeyFile  string `json:"keyFile,omitempty"`
	Insecure bool   `json:"insecure,omitempty"`
}

// merge fills p's empty fields from q.
func (p Profile) merge(q Profile) Profile {
	pick := func(a, b string) string {
		if a != "" {
			return a
		}
		return b
	}
	return Profile{Endpoint: pick(p.Endpoint, q.Endpoint), Token: pick(p.Token, q.Token), CAFile: pick(p.CAFile, q.CAFile),
		CertFile: pick(p.CertFile, q.CertFile), KeyFile: pick(p.KeyFile, q.KeyFile), Insecure: p.Insecure || q.Insecure}
}

// labFile is the part of lab.json edgectl reads.
type labFile struct {
	ControlPlanes []string `json:"controlPlanes"`
	AdminToken    string   `json:"adminToken"`
	CAFile        string   `json:"caFile"`
	Insecure      bool     `json:"insecure"`
}

func addCredentialFlags(cmd *cobra.Command) {
	f := cmd.PersistentFlags()
	f.String("token", "", "API token (default $"+TokenEnv+", the config file, or the lab's admin token from "+DefaultLabFile+")")
	f.String("ca", "", "CA certificate that signs the control plane's certificate (default $"+CAEnv+", the config file, or the lab's)")
	f.String("cert", "", "client certificate to present (optional; default $"+CertEnv+")")
	f.String("key", "", "key of --cert (default $"+KeyEnv+")")
	f.Bool("insecure", false, "plaintext gRPC, for a lab started with --insecure (default $"+InsecureEnv+")")
	f.String("config", "", "config file written by `edgectl login` (default $"+ConfigEnv+" or ~/.config/edgelab/config.json)")
	f.String("lab", "", "lab.json of an all-in-one lab (default $"+LabFileEnv+" or "+DefaultLabFile+")")
}

// flagOrEnv reads a root persistent flag, else the environment variable.
func flagOrEnv(cmd *cobra.Command, name, env string) string {
	v, err := cmd.Flags().GetString(name)
	if err != nil || v == "" {
		v, _ = cmd.Root().PersistentFlags().GetString(name)
	}
	if v == "" {
		v = os.Getenv(env)
	}
	return v
}

// ResolveProfile is the command's profile: flags and environment first,
// then the config file, then lab.json.
func ResolveProfile(cmd *cobra.Command) (Profile, error) {
	insecure, _ := cmd.Root().PersistentFlags().GetBool("insecure")
	p := Profile{
		Endpoint: flagOrEnv(cmd, "endpoint", EndpointEnv), Token: flagOrEnv(cmd, "token", TokenEnv),
		CAFile: flagOrEnv(cmd, "ca", CAEnv), CertFile: flagOrEnv(cmd, "cert", CertEnv), KeyFile: flagOrEnv(cmd, "key", KeyEnv),
		Insecure: insecure || os.Getenv(InsecureEnv) == "1" || os.Getenv(InsecureEnv) == "true",
	}
	cfg, err := readConfig(configPath(cmd))
	if err != nil {
		return p, err
	}
	p = p.merge(cfg)
	lab, err := readLab(flagOrEnv(cmd, "lab", LabFileEnv))
	if err != nil {
		return p, err
	}
	return p.merge(lab), nil
}

func configPath(cmd *cobra.Command) string {
	if p := flagOrEnv(cmd, "config", ConfigEnv); p != "" {
		return p
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "edgelab", "config.json")
}

func readConfig(path string) (Profile, error) {
	var p Profile
	if path == "" {
		return p, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return p, nil
	}
	if err != nil {
		return p, fmt.Errorf("reading config %s: %w", path, err)
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return p, fmt.Errorf("config %s: %w", path, err)
	}
	return p, nil
}

// readLab reads the credentials of the lab whose lab.json is at path
// (DefaultLabFile when empty; a missing default file is no error).
func readLab(path string) (Profile, error) {
	explicit := path != ""
	if !explicit {
		path = DefaultLabFile
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && !explicit {
		return Profile{}, nil
	}
	if err != nil {
		return Profile{}, fmt.Errorf("reading lab file: %w", err)
	}
	var lf labFile
	if err := json.Unmarshal(b, &lf); err != nil {
		return Profile{}, fmt.Errorf("lab file %s: %w", path, err)
	}
	p := Profile{Token: lf.AdminToken, CAFile: lf.CAFile, Insecure: lf.Insecure, Endpoint: strings.Join(lf.ControlPlanes, ",")}
	if p.CAFile != "" && !filepath.IsAbs(p.CAFile) {
		p.CAFile = filepath.Join(filepath.Dir(path), p.CAFile)
	}
	return p, nil
}

// AccessClient turns a profile into dial credentials.
func (p Profile) AccessClient() (access.Client, error) {
	c := access.Client{Token: p.Token, Insecure: p.Insecure}
	if p.Insecure {
		return c, nil
	}
	if p.CAFile == "" {
		return c, errors.New("no CA certificate to verify the control plane with: run `edgelab up` in this directory, or give --ca (or $" + CAEnv + "), or `edgectl login`")
	}
	pool, err := pki.LoadPool(p.CAFile)
	if err != nil {
		return c, err
	}
	c.Pool = pool
	if p.CertFile != "" {
		c.Cert = pki.NewFileSource(p.CertFile, p.KeyFile)
	}
	return c, nil
}
