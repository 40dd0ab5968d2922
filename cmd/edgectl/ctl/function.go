package ctl

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/edgelab/edgelab/eventtype"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/durationpb"

	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// maxSourceBytes bounds what `--source` reads.
const maxSourceBytes = 50 << 20

func exactArgs(n int, usage string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("expected %s", usage)
		}
		return nil
	}
}

// ReadSource reads a function's files: path is one .go file or a directory
// whose .go files (not _test.go, not subdirectories) form the package.
func ReadSource(path string) ([]*edgelabv1.SourceFile, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("reading source: %w", err)
	}
	var names []string
	if st.IsDir() {
		entries, err := os.ReadDir(path)
		if err != nil {
			return nil, fmt.Errorf("reading source: %w", err)
		}
		for _, e := range entries {
			n := e.Name()
			if e.Type().IsRegular() && strings.HasSuffix(n, ".go") && !strings.HasSuffix(n, "_test.go") {
				names = append(names, filepath.Join(path, n))
			}
		}
		if len(names) == 0 {
			return nil, fmt.Errorf("reading source: no .go files in %s", path)
		}
	} else {
		if !strings.HasSuffix(path, ".go") {
			return nil, fmt.Errorf("reading source: %s is not a .go file or a directory", path)
		}
		names = []string{path}
	}
	sort.Strings(names)
	var out []*edgelabv1.SourceFile
	total := 0
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			return nil, fmt.Errorf("reading source: %w", err)
		}
		if total += len(b); total > maxSourceBytes {
			return nil, fmt.Errorf("reading source: more than %d bytes", maxSourceBytes)
		}
		out = append(out, &edgelabv1.SourceFile{Name: filepath.Base(n), Content: b})
	}
	return out, nil
}

// ParseRef splits NAME[:VERSION]; version 0 means none given.
func ParseRef(s string) (string, int64, error) {
	name, v, found := strings.Cut(s, ":")
	if name == "" {
		return "", 0, usagef("%q: expected NAME or NAME:VERSION", s)
	}
	if !found {
		return name, 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return "", 0, usagef("%q: the version must be a number >= 1 (only numbered versions exist; there is no $LATEST)", s)
	}
	return name, n, nil
}

func entryNames(eps []edgelabv1.EventType) string {
	var out []string
	for _, e := range eps {
		out = append(out, eventtype.Name(e))
	}
	if len(out) == 0 {
		return "-"
	}
	return strings.Join(out, ",")
}

func functionCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "function",
		Short: "Create, update, publish, inspect and delete edge functions",
		Long: `A function has a mutable draft and immutable numbered versions (1, 2, 3 ...).
Only numbered versions can be associated with a distribution.`,
		Example: `  edgectl function create auth --source ./auth        # a directory of .go files
  edgectl function update auth --source ./auth/auth.go
  edgectl function publish auth                          # prints the new version number
  edgectl function get auth:1 --code
  edgectl function list
  edgectl function delete auth:1`,
		Aliases: []string{"functions", "fn"},
	}
	cmd.AddCommand(fnCreateCmd(), fnUpdateCmd(), fnPublishCmd(), fnGetCmd(), fnListCmd(), fnDeleteCmd())
	return cmd
}

func fnCreateCmd() *cobra.Command {
	var source, description string
	var memory int32
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "create NAME --source PATH",
		Short: "Create a function from a .go file or a directory of .go files",
		Long: `Create a function. The source is validated (imports, go statements, entry-point
signatures) and compiled in a sandbox before anything is stored; errors name
the file and line. _test.go files are skipped, so a package with native tests
can be uploaded as is.`,
		Example: `  edgectl function create auth --source ./examples/jwt-auth
  edgectl function create headers --source headers.go --memory 256 --timeout 2s --description "security headers"`,
		Args: exactArgs(1, "NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if source == "" {
				return usagef("--source is required")
			}
			files, err := ReadSource(source)
			if err != nil {
				return err
			}
			cfg := &edgelabv1.FunctionConfig{MemoryMb: memory, Description: description}
			if timeout != 0 {
				cfg.Timeout = durationpb.New(timeout)
			}
			c, closeFn, err := Client(cmd)
			if err != nil {
				return err
			}
			defer closeFn()
			resp, err := c.CreateFunction(cmd.Context(), &edgelabv1.CreateFunctionRequest{Name: args[0], Config: cfg, Files: files})
			if err != nil {
				return err
			}
			return printFunction(cmd, resp.GetFunction(), "created")
		},
	}
	cmd.Flags().StringVar(&source, "source", "", "a .go file or a directory of .go files (required)")
	cmd.Flags().Int32Var(&memory, "memory", 0, "memory limit in MB, 128-10240 (default: the event type's, 128)")
	cmd.Flags().DurationVar(&timeout, "timeout", 0, "timeout, at most the event type's (5s viewer, 30s origin)")
	cmd.Flags().StringVar(&description, "description", "", "free text")
	return cmd
}

func fnUpdateCmd() *cobra.Command {
	var source string
	cmd := &cobra.Command{
		Use:     "update NAME --source PATH",
		Short:   "Replace a function's draft (publish to make it a version)",
		Example: "  edgectl function update auth --source ./auth\n  edgectl function publish auth",
		Args:    exactArgs(1, "NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if source == "" {
				return usagef("--source is required")
			}
			files, err := ReadSource(source)
			if err != nil {
				return err
			}
			c, closeFn, err := Client(cmd)
			if err != nil {
				return err
			}
			defer closeFn()
			resp, err := c.UpdateFunction(cmd.Context(), &edgelabv1.UpdateFunctionRequest{Name: args[0], Files: files})
			if err != nil {
				return err
			}
			return printFunction(cmd, resp.GetFunction(), "updated")
		},
	}
	cmd.Flags().StringVar(&source, "source", "", "a .go file or a directory of .go files (required)")
	return cmd
}

func printFunction(cmd *cobra.Command, fn *edgelabv1.Function, verb string) error {
	if IsJSON(cmd) {
		return PrintJSON(cmd.OutOrStdout(), fn)
	}
	_, err := fmt.Fprintf(cmd.OutOrStdout(), "function %s %s (draft sha256 %s, entry points %s)\n",
		fn.GetName(), verb, short(fn.GetDraftSha256()), entryNames(fn.GetEntryPoints()))
	return err
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

func fnPublishCmd() *cobra.Command {
	var description string
	cmd := &cobra.Command{
		Use:   "publish NAME",
		Short: "Publish the draft as the next numbered version; prints the number",
		Long: `Publish the draft as an immutable version. The version number alone is
printed, so scripts can capture it: V=$(edgectl function publish auth).`,
		Example: "  edgectl function publish auth\n  edgectl function publish auth --description \"fix expiry check\"",
		Args:    exactArgs(1, "NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, closeFn, err := Client(cmd)
			if err != nil {
				return err
			}
			defer closeFn()
			resp, err := c.PublishFunction(cmd.Context(), &edgelabv1.PublishFunctionRequest{Name: args[0], Description: description})
			if err != nil {
				return err
			}
			if IsJSON(cmd) {
				return PrintJSON(cmd.OutOrStdout(), resp)
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), resp.GetVersion().GetVersion())
			return err
		},
	}
	cmd.Flags().StringVar(&description, "description", "", "description of this version")
	return cmd
}

func fnGetCmd() *cobra.Command {
	var code bool
	cmd := &cobra.Command{
		Use:     "get NAME[:VERSION]",
		Short:   "Show a function (its draft) or one version",
		Example: "  edgectl function get auth\n  edgectl function get auth:2 --code\n  edgectl function get auth -o json",
		Args:    exactArgs(1, "NAME[:VERSION]"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, version, err := ParseRef(args[0])
			if err != nil {
				return err
			}
			c, closeFn, err := Client(cmd)
			if err != nil {
				return err
			}
			defer closeFn()
			resp, err := c.GetFunction(cmd.Context(), &edgelabv1.GetFunctionRequest{Name: name, Version: version, IncludeCode: code})
			if err != nil {
				return err
			}
			if IsJSON(cmd) {
				return PrintJSON(cmd.OutOrStdout(), resp)
			}
			w := cmd.OutOrStdout()
			fn := resp.GetFunction()
			files := fn.GetDraft()
			if v := resp.GetVersion(); v != nil {
				fmt.Fprintf(w, "Function:     %s\nVersion:      %d\nSHA256:       %s\nEntry points: %s\nPublished:    %s\n",
					v.GetName(), v.GetVersion(), v.GetSha256(), entryNames(v.GetEntryPoints()), v.GetPublished().AsTime().Format(time.RFC3339))
				printConfig(w, v.GetConfig())
				files = v.GetFiles()
			} else {
				fmt.Fprintf(w, "Function:     %s\nDraft SHA256: %s\nEntry points: %s\nLatest:       %d\nVersions:     %s\nUpdated:      %s\n",
					fn.GetName(), fn.GetDraftSha256(), entryNames(fn.GetEntryPoints()), fn.GetLatestVersion(),
					joinInts(resp.GetVersions()), fn.GetUpdated().AsTime().Format(time.RFC3339))
				printConfig(w, fn.GetConfig())
			}
			var names []string
			for _, f := range files {
				names = append(names, f.GetName())
			}
			fmt.Fprintf(w, "Files:        %s\n", strings.Join(names, ", "))
			if code {
				for _, f := range files {
					fmt.Fprintf(w, "\n// ---- %s ----\n%s", f.GetName(), f.GetContent())
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&code, "code", false, "print the source files")
	return cmd
}

func printConfig(w interface{ Write([]byte) (int, error) }, c *edgelabv1.FunctionConfig) {
	mem, to := "default", "default"
	if c.GetMemoryMb() != 0 {
		mem = fmt.Sprintf("%d MB", c.GetMemoryMb())
	}
	if c.GetTimeout().AsDuration() != 0 {
		to = c.GetTimeout().AsDuration().String()
	}
	fmt.Fprintf(w, "Memory:       %s\nTimeout:      %s\n", mem, to)
	if c.GetDescription() != "" {
		fmt.Fprintf(w, "Description:  %s\n", c.GetDescription())
	}
}

func joinInts(vs []int64) string {
	if len(vs) == 0 {
		return "-"
	}
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = strconv.FormatInt(v, 10)
	}
	return strings.Join(s, ",")
}

func fnListCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Short:   "List functions",
		Example: "  edgectl function list\n  edgectl function list -o json",
		Args:    exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, closeFn, err := Client(cmd)
			if err != nil {
				return err
			}
			defer closeFn()
			resp, err := c.ListFunctions(cmd.Context(), &edgelabv1.ListFunctionsRequest{})
			if err != nil {
				return err
			}
			if IsJSON(cmd) {
				return PrintJSON(cmd.OutOrStdout(), resp)
			}
			tw := NewTable(cmd.OutOrStdout())
			fmt.Fprintln(tw, "NAME\tLATEST\tENTRY POINTS\tDRAFT SHA256\tUPDATED")
			for _, f := range resp.GetFunctions() {
				fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", f.GetName(), f.GetLatestVersion(), entryNames(f.GetEntryPoints()),
					short(f.GetDraftSha256()), f.GetUpdated().AsTime().Format(time.RFC3339))
			}
			return tw.Flush()
		},
	}
}

func fnDeleteCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "delete NAME[:VERSION]",
		Short: "Delete one version, or a function with all its versions",
		Long: `Delete a version (NAME:VERSION) or a whole function (NAME). A version that a
distribution references cannot be deleted; the error names the distribution.`,
		Example: "  edgectl function delete auth:1\n  edgectl function delete auth",
		Args:    exactArgs(1, "NAME[:VERSION]"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, version, err := ParseRef(args[0])
			if err != nil {
				return err
			}
			c, closeFn, err := Client(cmd)
			if err != nil {
				return err
			}
			defer closeFn()
			if _, err := c.DeleteFunction(cmd.Context(), &edgelabv1.DeleteFunctionRequest{Name: name, Version: version}); err != nil {
				return err
			}
			if version > 0 {
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "deleted %s version %d\n", name, version)
			} else {
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "deleted function %s\n", name)
			}
			return err
		},
	}
}
