// Package workshop runs the workshop in docs/workshop so the docs cannot rot.
//
// Its tests read the lab pages (docs/workshop/NN-*.md) in order and execute
// every fenced block tagged "sh workshop" against an all-in-one lab started
// with lab.Start on free ports, then check the "text expect" block that
// follows it against the output. The format, as a lab page writes it:
//
//	```sh workshop                 commands, one per line (trailing \ continues)
//	edgectl function publish greeting
//	curl -si -H 'Host: workshop.edgelab.test' "$GATEWAY/greet?name=edge"
//	```
//
//	```text expect                 lines that must appear in the output, in
//	HTTP/1.1 200 OK                order; "..." inside a line matches any text
//	X-Cache: ...from edgelab
//	```
//
// Block attributes after "sh workshop": exit=N (the last command must exit
// with N, the others with 0), retry=DUR (run the block again until its
// expectations hold or DUR passes: for eventually consistent output such as a
// region that has not received a change yet), pending=REASON (the block is
// documentation only for now; the test reports it as pending, never as passed).
//
// The commands are a small, strict shell subset, run in-process:
//
//	edgectl ARGS / go run ./cmd/edgectl ARGS   ctl.Execute, --endpoint from $EDGELAB_ENDPOINT
//	go run ./cmd/edgelab up [--profile P] [--regions R,...] [--nodes-per-region N] [--latency-model M] [--data-dir D]
//	                                           lab.Start on free ports (replaces the running lab)
//	curl [-s] [-i] [-H H]... [-X M] [-d DATA] [-o /dev/null] [-w '%{http_code} %{time_total}s\n'] URL
//	                                           net/http, printed as curl prints it
//	go test PKGS / go build -o DIR PKGS        the real go command (build output goes to a temp dir)
//	export NAME=VALUE, mkdir -p DIR, cat FILE, cat > FILE <<'EOF' ... EOF (heredoc; unquoted EOF expands $VARS)
//
// Pipes, redirections other than the heredoc form, && and ; are rejected, so a
// page never shows a command the test did not run as written. The lab's own
// variables (EDGELAB_ENDPOINT, GATEWAY, WEB, WEB_B, TOKEN, ADMIN_TOKEN, WORKDIR,
// PATH) are bound from lab.Endpoints() and a temporary directory instead of
// the value a page exports for the default ports; the test checks those
// literal defaults against the lab's port plan.
package workshop
