package workshop

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// block is one fenced block of a lab page.
type block struct {
	file   string
	line   int    // line of the opening fence, 1-based
	kind   string // "sh" or "expect"
	body   string
	exit   int           // sh: expected exit status of the last command
	retry  time.Duration // sh: re-run until the expectations hold
	pend   string        // sh: pending reason ("" = run it)
	expect *block        // sh: the expect block that follows, if any
}

func (b *block) where() string { return fmt.Sprintf("%s:%d", filepath.Base(b.file), b.line) }

// command is one parsed command line of an sh block.
type command struct {
	line    int      // line in the page
	words   []string // after quote removal and $VAR expansion
	raw     string   // as written (for messages)
	heredoc *heredoc
}

type heredoc struct {
	path   string
	body   string
	expand bool
}

var fenceRE = regexp.MustCompile("^```(\\S*)\\s*(.*)$")

// parseBlocks extracts the "sh workshop" and "text expect" blocks of a page.
// Each expect block attaches to the sh block just before it.
func parseBlocks(file string, data []byte) ([]*block, error) {
	lines := strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
	var out []*block
	var last *block
	for i := 0; i < len(lines); i++ {
		m := fenceRE.FindStringSubmatch(lines[i])
		if m == nil {
			continue
		}
		start := i
		var body []string
		closed := false
		for i++; i < len(lines); i++ {
			if strings.TrimSpace(lines[i]) == "```" {
				closed = true
				break
			}
			body = append(body, lines[i])
		}
		if !closed {
			return nil, fmt.Errorf("%s:%d: unclosed code fence", file, start+1)
		}
		fields := strings.Fields(m[2])
		b := &block{file: file, line: start + 1, body: strings.Join(body, "\n")}
		switch {
		case m[1] == "sh" && len(fields) > 0 && fields[0] == "workshop":
			b.kind = "sh"
			if err := b.attrs(fields[1:]); err != nil {
				return nil, fmt.Errorf("%s: %w", b.where(), err)
			}
			out = append(out, b)
			last = b
		case m[1] == "text" && len(fields) > 0 && fields[0] == "expect":
			b.kind = "expect"
			if len(fields) > 1 {
				return nil, fmt.Errorf("%s: text expect takes no attributes", b.where())
			}
			if last == nil || last.expect != nil {
				return nil, fmt.Errorf("%s: an expect block must follow an sh workshop block", b.where())
			}
			last.expect = b
		default:
			last = nil // an expect block must follow its sh block directly
		}
	}
	return out, nil
}

func (b *block) attrs(fields []string) error {
	for i := 0; i < len(fields); i++ {
		k, v, ok := strings.Cut(fields[i], "=")
		if !ok {
			return fmt.Errorf("attribute %q: want key=value", fields[i])
		}
		switch k {
		case "exit":
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > 255 {
				return fmt.Errorf("exit=%q: want 0..255", v)
			}
			b.exit = n
		case "retry":
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 || d > 5*time.Minute {
				return fmt.Errorf("retry=%q: want a duration in (0, 5m]", v)
			}
			b.retry = d
		case "pending":
			// The reason runs to the end of the line.
			b.pend = strings.Trim(strings.Join(append([]string{v}, fields[i+1:]...), " "), `"`)
			if b.pend == "" {
				return errors.New("pending needs a reason")
			}
			return nil
		default:
			return fmt.Errorf("unknown attribute %q", k)
		}
	}
	return nil
}

// parseCommands splits an sh block into commands, expanding variables with
// lookup. Comment lines and blank lines are skipped; a trailing backslash
// continues a line; "cat > FILE <<EOF" takes the following lines up to EOF.
func parseCommands(b *block, lookup func(string) (string, bool)) ([]command, error) {
	lines := strings.Split(b.body, "\n")
	var out []command
	for i := 0; i < len(lines); i++ {
		lineNo := b.line + 1 + i
		text := lines[i]
		for strings.HasSuffix(text, `\`) && i+1 < len(lines) {
			i++
			text = strings.TrimSuffix(text, `\`) + " " + strings.TrimSpace(lines[i])
		}
		trimmed := strings.TrimSpace(text)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		if strings.HasPrefix(trimmed, "export ") {
			name, value, ok := strings.Cut(strings.TrimSpace(strings.TrimPrefix(trimmed, "export ")), "=")
			if !ok || !validName(name) {
				return nil, fmt.Errorf("line %d: export wants NAME=VALUE: %q", lineNo, trimmed)
			}
			// The value is kept raw: lab variables ignore it, others expand it.
			out = append(out, command{line: lineNo, raw: trimmed, words: []string{"export", name, value}})
			continue
		}
		words, redirect, err := splitWords(trimmed, lookup)
		if err != nil {
			return nil, fmt.Errorf("line %d: %q: %w", lineNo, trimmed, err)
		}
		c := command{line: lineNo, raw: trimmed, words: words}
		if redirect != "" {
			// cat > FILE <<DELIM
			if len(words) != 2 || words[0] != "cat" {
				return nil, fmt.Errorf("line %d: only `cat > FILE <<EOF` may redirect: %q", lineNo, trimmed)
			}
			delim, expand := heredocDelim(redirect)
			var body []string
			found := false
			for i++; i < len(lines); i++ {
				if lines[i] == delim {
					found = true
					break
				}
				body = append(body, lines[i])
			}
			if !found {
				return nil, fmt.Errorf("line %d: heredoc %s is not closed", lineNo, delim)
			}
			h := &heredoc{path: words[1], body: strings.Join(body, "\n") + "\n", expand: expand}
			if expand {
				if h.body, err = expandVars(h.body, lookup); err != nil {
					return nil, fmt.Errorf("line %d: heredoc: %w", lineNo, err)
				}
			}
			c.heredoc = h
			c.words = []string{"cat>", words[1]}
		}
		out = append(out, c)
	}
	return out, nil
}

func heredocDelim(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && (s[0] == '\'' || s[0] == '"') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1], false
	}
	return s, true
}

var nameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func validName(s string) bool { return nameRE.MatchString(s) }

// errUnsupported marks shell syntax the runner does not implement.
var errUnsupported = errors.New("unsupported shell syntax (the workshop runner takes one simple command per line)")

// splitWords splits a command line like a POSIX shell would for the subset
// the workshop uses: single quotes (literal), double quotes ($VAR expanded,
// \" \\ \$ escapes), backslash escapes and $VAR/${VAR} outside quotes. It
// returns the heredoc delimiter when the line is `cat > FILE <<DELIM`.
// Pipes, ;, &, other redirections, globs and command substitution are errors.
func splitWords(s string, lookup func(string) (string, bool)) (words []string, heredoc string, err error) {
	var cur strings.Builder
	inWord := false
	flush := func() {
		if inWord {
			words = append(words, cur.String())
			cur.Reset()
			inWord = false
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			flush()
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, "", errors.New("unterminated single quote")
			}
			cur.WriteString(s[i+1 : i+1+j])
			inWord = true
			i += j + 1
		case c == '"':
			inWord = true
			closed := false
			for i++; i < len(s); i++ {
				d := s[i]
				if d == '"' {
					closed = true
					break
				}
				if d == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`", s[i+1]) >= 0 {
					i++
					cur.WriteByte(s[i])
					continue
				}
				if d == '`' {
					return nil, "", errUnsupported
				}
				if d == '$' {
					v, n, err := expandOne(s[i:], lookup)
					if err != nil {
						return nil, "", err
					}
					cur.WriteString(v)
					i += n - 1
					continue
				}
				cur.WriteByte(d)
			}
			if !closed {
				return nil, "", errors.New("unterminated double quote")
			}
		case c == '\\':
			if i+1 >= len(s) {
				return nil, "", errors.New("dangling backslash")
			}
			i++
			cur.WriteByte(s[i])
			inWord = true
		case c == '$':
			v, n, err := expandOne(s[i:], lookup)
			if err != nil {
				return nil, "", err
			}
			cur.WriteString(v)
			inWord = true
			i += n - 1
		case c == '>' && !inWord && len(words) == 1 && words[0] == "cat":
			// cat > FILE <<DELIM
			rest := strings.TrimSpace(s[i+1:])
			target, after, ok := strings.Cut(rest, "<<")
			target = strings.TrimSpace(target)
			if !ok || target == "" {
				return nil, "", errUnsupported
			}
			tw, _, err := splitWords(target, lookup)
			if err != nil || len(tw) != 1 {
				return nil, "", errUnsupported
			}
			after = strings.TrimSpace(after)
			if after == "" || strings.ContainsAny(after, " \t|;&<>") {
				return nil, "", errUnsupported
			}
			return append(words, tw[0]), after, nil
		case c == '|' || c == ';' || c == '&' || c == '<' || c == '>' || c == '`' || c == '*' || c == '?' || c == '(' || c == ')' || c == '~':
			return nil, "", errUnsupported
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	flush()
	return words, "", nil
}

// expandOne expands the variable at the start of s ("$NAME" or "${NAME}")
// and returns its value and the number of bytes consumed.
func expandOne(s string, lookup func(string) (string, bool)) (string, int, error) {
	if len(s) < 2 {
		return "", 0, errors.New("lone $")
	}
	var name string
	n := 0
	switch {
	case s[1] == '{':
		end := strings.IndexByte(s, '}')
		if end < 0 {
			return "", 0, errors.New("unterminated ${")
		}
		name, n = s[2:end], end+1
	case s[1] == '(':
		return "", 0, errUnsupported
	default:
		j := 1
		for j < len(s) && (s[j] == '_' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= 'a' && s[j] <= 'z' || j > 1 && s[j] >= '0' && s[j] <= '9') {
			j++
		}
		name, n = s[1:j], j
	}
	if !validName(name) {
		return "", 0, fmt.Errorf("bad variable reference %q", s[:max(n, 2)])
	}
	v, ok := lookup(name)
	if !ok {
		return "", 0, fmt.Errorf("variable $%s is not set", name)
	}
	return v, n, nil
}

// expandVars expands every $VAR / ${VAR} in s (heredoc bodies).
func expandVars(s string, lookup func(string) (string, bool)) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && (s[i+1] == '$' || s[i+1] == '\\' || s[i+1] == '`') {
			i++
			b.WriteByte(s[i])
			continue
		}
		if s[i] == '`' {
			return "", errUnsupported
		}
		if s[i] != '$' {
			b.WriteByte(s[i])
			continue
		}
		v, n, err := expandOne(s[i:], lookup)
		if err != nil {
			return "", err
		}
		b.WriteString(v)
		i += n - 1
	}
	return b.String(), nil
}

// matchExpect checks that every non-blank line of want appears in got, in
// order, each within one output line; "..." in a want line matches any
// text. It returns a description of the first line not found.
func matchExpect(want, got string) error {
	outLines := strings.Split(strings.ReplaceAll(got, "\r\n", "\n"), "\n")
	pos := 0
	for _, w := range strings.Split(want, "\n") {
		w = strings.TrimRight(w, " \t")
		if strings.TrimSpace(w) == "" {
			continue
		}
		parts := strings.Split(w, "...")
		found := false
		for ; pos < len(outLines); pos++ {
			if lineMatches(outLines[pos], parts) {
				found = true
				pos++
				break
			}
		}
		if !found {
			return fmt.Errorf("expected line %q not found (in order) in the output", w)
		}
	}
	return nil
}

func lineMatches(line string, parts []string) bool {
	// The first part anchors nowhere in particular: each part must follow
	// the previous one.
	rest := line
	for _, p := range parts {
		if p == "" {
			continue
		}
		j := strings.Index(rest, p)
		if j < 0 {
			return false
		}
		rest = rest[j+len(p):]
	}
	return true
}

// labPages lists the lab pages of dir (NN-*.md) in order.
func labPages(dir string) ([]string, error) {
	m, err := filepath.Glob(filepath.Join(dir, "[0-9][0-9]-*.md"))
	if err != nil {
		return nil, err
	}
	sort.Strings(m)
	if len(m) == 0 {
		return nil, fmt.Errorf("no lab pages in %s", dir)
	}
	return m, nil
}

// readBlocks parses every lab page.
func readBlocks(pages []string) (map[string][]*block, error) {
	out := map[string][]*block{}
	for _, p := range pages {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		bs, err := parseBlocks(p, data)
		if err != nil {
			return nil, err
		}
		out[p] = bs
	}
	return out, nil
}
