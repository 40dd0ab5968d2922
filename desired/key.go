package desired

import (
	"strconv"

	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// Key names one function version. It is the only key scheme for function
// versions in desired state, on both sides of replication.
type Key struct {
	Name    string
	Version int64
}

// String is "name:version", the form errors, logs and the
// X-Edgelab-Functions header use.
func (k Key) String() string { return k.Name + ":" + strconv.FormatInt(k.Version, 10) }

// KeyOf is the key of a function version.
func KeyOf(fv *edgelabv1.FunctionVersion) Key {
	return Key{Name: fv.GetName(), Version: fv.GetVersion()}
}

// RefKey is the key a FunctionRef names.
func RefKey(r *edgelabv1.FunctionRef) Key { return Key{Name: r.GetName(), Version: r.GetVersion()} }

// Refs lists the function versions a distribution's associations name,
// each once, in the order they first appear.
func Refs(d *edgelabv1.Distribution) []Key {
	var out []Key
	for _, b := range d.GetBehaviors() {
		for _, a := range b.GetFunctions() {
			k := Key{Name: a.GetFunction(), Version: a.GetVersion()}
			if !containsKey(out, k) {
				out = append(out, k)
			}
		}
	}
	return out
}

func containsKey(ks []Key, k Key) bool {
	for _, x := range ks {
		if x == k {
			return true
		}
	}
	return false
}
