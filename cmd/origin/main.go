// Command origin runs edgelab's sample origin server.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/edgelab/edgelab/internal/adminauth"
	"github.com/edgelab/edgelab/origin"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "origin:", err)
		os.Exit(1)
	}
}

func run() error {
	var cfg origin.Config
	flag.StringVar(&cfg.ListenAddr, "listen", "127.0.0.1:9001", "listen address")
	flag.StringVar(&cfg.ID, "id", "origin", "origin id (X-Origin-Id)")
	tokenFile := flag.String("admin-token-file", "", "file holding the bearer token /_admin/ requests must carry (default: $"+adminauth.EnvToken+"; neither: no token)")
	buckets := flag.String("s3-buckets", "", "comma-separated bucket names: answer as an S3 endpoint serving them (S3 mode)")
	flag.Parse()
	tok, err := adminauth.LoadToken(*tokenFile)
	if err != nil {
		return err
	}
	cfg.AdminToken = tok
	if *buckets != "" {
		cfg.S3Buckets = strings.Split(*buckets, ",")
	}
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	s, err := origin.New(cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg.Logger.Info("origin listening", "id", cfg.ID, "url", s.URL())
	return s.Run(ctx)
}
