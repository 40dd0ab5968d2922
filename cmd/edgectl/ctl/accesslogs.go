package ctl

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/edgelab/edgelab/accesslog"
)

// labEdge is one PoP of lab.json (edges).
type labEdge struct {
	ID     string `json:"id"`
	Region string `json:"region"`
	PoP    string `json:"pop"`
}

// accessLogsCmd is `edgectl logs access`: the PoPs' CloudFront standard
// access logs as one log.
func accessLogsCmd() *cobra.Command {
	var (
		nodes, pops, files []string
		follow             bool
	)
	cmd := &cobra.Command{
		Use:   "access",
		Short: "Print the PoPs' CloudFront standard access logs as one log",
		Long: `access prints the CloudFront standard access logs the PoPs write (one line
per viewer request, CloudFront's 33 tab-separated fields, docs/tiers.md) as
one log file: the #Version and #Fields lines, then every node's lines in time
order, so tools that read CloudFront logs (GoAccess --log-format=CLOUDFRONT,
Athena, ...) read the output unchanged.

The logs are the files the lab's PoPs write, <lab dir>/nodes/<node>/access.log,
found from lab.json (--lab, $` + LabFileEnv + ` or ` + DefaultLabFile + `); --node and --pop keep
some of them. --file reads any node's log instead (edgenode --access-log FILE).
-o json prints the entries as objects keyed by field name; --follow then
prints every line the nodes append, until interrupted.
A function named "access" is read with: edgectl logs -- access`,
		Example: `  edgectl logs access
  edgectl logs access --pop NRT --pop SYD
  edgectl logs access --follow
  edgectl logs access | goaccess --log-format=CLOUDFRONT -
  edgectl logs access --file /var/log/edgelab/access.log -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if follow && IsJSON(cmd) {
				return usagef("--follow prints log lines: it does not go with -o json")
			}
			paths, err := accessLogFiles(flagOrEnv(cmd, "lab", LabFileEnv), nodes, pops, files)
			if err != nil {
				return err
			}
			sizes, err := printAccessLogs(cmd, paths, len(files) == 0)
			if err != nil || !follow {
				return err
			}
			return followAccessLogs(cmd.Context(), cmd.OutOrStdout(), paths, sizes, followEvery)
		},
	}
	cmd.Flags().StringSliceVar(&nodes, "node", nil, "only this node's log (repeatable)")
	cmd.Flags().StringSliceVar(&pops, "pop", nil, "only the logs of the nodes at this PoP (repeatable)")
	cmd.Flags().StringSliceVar(&files, "file", nil, "read this access log file instead of the lab's (repeatable)")
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "then print the lines the nodes append, until interrupted")
	return cmd
}

// accessLogFiles lists the log files to read: files when given, else the
// lab's PoPs' access.log files (which may not exist yet), kept by nodes
// and pops.
func accessLogFiles(labPath string, nodes, pops, files []string) ([]string, error) {
	if len(files) > 0 {
		if len(nodes) > 0 || len(pops) > 0 {
			return nil, usagef("--file reads the files given: --node and --pop are for the lab's logs")
		}
		return files, nil
	}
	if labPath == "" {
		labPath = DefaultLabFile
	}
	b, err := os.ReadFile(labPath)
	if err != nil {
		return nil, fmt.Errorf("reading lab file (the lab's PoPs' logs are found from it; --file reads others): %w", err)
	}
	var lf struct {
		Edges []labEdge `json:"edges"`
	}
	if err := json.Unmarshal(b, &lf); err != nil {
		return nil, fmt.Errorf("lab file %s: %w", labPath, err)
	}
	var ids, out []string
	for _, e := range lf.Edges {
		ids = append(ids, e.ID)
		if (len(nodes) > 0 && !slices.Contains(nodes, e.ID)) || (len(pops) > 0 && !slices.Contains(pops, e.PoP)) {
			continue
		}
		// A PoP that has served no viewer yet has no file (yet).
		out = append(out, filepath.Join(filepath.Dir(labPath), "nodes", e.ID, "access.log"))
	}
	for _, n := range nodes {
		if !slices.Contains(ids, n) {
			return nil, fmt.Errorf("--node %q: not a PoP of the lab (%s)", n, strings.Join(ids, ", "))
		}
	}
	return out, nil
}

// printAccessLogs merges the files into one log on the command's output
// (objects keyed by field name with -o json) and returns how much of each
// it read. A file that does not exist is skipped when missingOK (size 0).
// The files are read whole: a lab's logs are small.
func printAccessLogs(cmd *cobra.Command, paths []string, missingOK bool) ([]int64, error) {
	var readers []io.Reader
	var names []string
	sizes := make([]int64, len(paths))
	for i, p := range paths {
		data, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) && missingOK {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading access log: %w", err)
		}
		// Whole lines only (a node may be writing one); --follow reads on
		// from there.
		data = data[:bytes.LastIndexByte(data, '\n')+1]
		sizes[i] = int64(len(data))
		readers, names = append(readers, bytes.NewReader(data)), append(names, p)
	}
	return sizes, mergeAccessLogs(cmd, names, readers)
}

// mergeAccessLogs writes the merged log, or its entries as JSON with -o json.
func mergeAccessLogs(cmd *cobra.Command, paths []string, readers []io.Reader) error {
	if !IsJSON(cmd) {
		_, err := accesslog.Merge(cmd.OutOrStdout(), paths, readers...)
		return err
	}
	var buf bytes.Buffer
	if _, err := accesslog.Merge(&buf, paths, readers...); err != nil {
		return err
	}
	entries := []map[string]string{}
	for line := range strings.SplitSeq(strings.TrimSuffix(buf.String(), "\n"), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		v, err := accesslog.Split(line)
		if err != nil {
			return err
		}
		m := make(map[string]string, len(v))
		for i, name := range accesslog.Fields {
			m[name] = v[i]
		}
		entries = append(entries, m)
	}
	enc := json.NewEncoder(cmd.OutOrStdout())
	enc.SetIndent("", "  ")
	if err := enc.Encode(entries); err != nil {
		return fmt.Errorf("encoding JSON: %w", err)
	}
	return nil
}
