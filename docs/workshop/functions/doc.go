// Package functions holds the edge functions the workshop's labs publish
// (docs/workshop/README.md). Each subdirectory is one function: a Go package
// that imports only the edge SDK and allowed standard packages, with native
// unit tests that run under `go test`.
package functions
