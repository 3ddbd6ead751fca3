// Command server runs the dance-lessons-coach HTTP API.
//
// Usage:
//
//	server [-config file]
//	server -healthcheck [URL]
//
// The configuration file defaults to config.yaml in the working directory,
// or to $DLC_CONFIG when set; the -config flag takes precedence over both.
// A missing file means the built-in defaults are used.
//
// In -healthcheck mode the command performs GET URL (default
// http://127.0.0.1:8080/healthz) and exits with status 0 if the response is
// 200 OK and 1 otherwise, so a container image can check its own health
// without curl.
//
// The server shuts down gracefully on SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/arcodange/dance-lessons-coach/pkg/config"
	"github.com/arcodange/dance-lessons-coach/pkg/server"
)

const (
	defaultConfig    = "config.yaml"
	defaultHealthURL = "http://127.0.0.1:8080/healthz"
	shutdownTimeout  = 10 * time.Second
	healthTimeout    = 5 * time.Second
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

// healthFlag is the -healthcheck flag. It behaves like a boolean flag so that
// it may be given alone; the URL may follow as "-healthcheck=URL" or as the
// next argument.
type healthFlag struct {
	enabled bool
	url     string
}

func (f *healthFlag) String() string { return f.url }

func (f *healthFlag) IsBoolFlag() bool { return true }

func (f *healthFlag) Set(s string) error {
	switch s {
	case "true":
		f.enabled = true
	case "false":
		f.enabled = false
	default:
		f.enabled, f.url = true, s
	}
	return nil
}

// run parses args and runs the requested mode, returning the exit status.
func run(args []string, stderr io.Writer) int {
	flags := flag.NewFlagSet("server", flag.ContinueOnError)
	flags.SetOutput(stderr)
	cfgDefault := defaultConfig
	if env := os.Getenv("DLC_CONFIG"); env != "" {
		cfgDefault = env
	}
	cfgPath := flags.String("config", cfgDefault, "configuration `file` (env DLC_CONFIG)")
	var hc healthFlag
	flags.Var(&hc, "healthcheck", "check the health endpoint at [URL] (default "+defaultHealthURL+") and exit 0 if healthy")
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}

	if hc.enabled {
		url := hc.url
		switch {
		case url == "" && flags.NArg() == 1:
			url = flags.Arg(0)
		case url == "" && flags.NArg() == 0:
			url = defaultHealthURL
		case flags.NArg() > 0:
			fmt.Fprintln(stderr, "unexpected arguments:", flags.Args())
			return 2
		}
		return healthcheck(url, stderr)
	}
	if flags.NArg() > 0 {
		fmt.Fprintln(stderr, "unexpected arguments:", flags.Args())
		return 2
	}

	logger := slog.New(slog.NewTextHandler(stderr, nil))
	if err := serve(*cfgPath, logger); err != nil {
		logger.Error("server failed", "err", err)
		return 1
	}
	return 0
}

// healthcheck performs GET url and returns 0 if it answers 200 OK, else 1.
func healthcheck(url string, stderr io.Writer) int {
	client := &http.Client{
		Timeout:   healthTimeout,
		Transport: &http.Transport{}, // no proxy: the target is the local server
	}
	resp, err := client.Get(url)
	if err != nil {
		fmt.Fprintln(stderr, "healthcheck:", err)
		return 1
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "healthcheck: %s: %s\n", url, resp.Status)
		return 1
	}
	return 0
}

// serve loads the configuration and runs the HTTP server until SIGINT or
// SIGTERM, then shuts it down gracefully.
func serve(cfgPath string, logger *slog.Logger) error {
	if _, err := os.Stat(cfgPath); errors.Is(err, fs.ErrNotExist) {
		logger.Warn("config file not found, using defaults", "config", cfgPath)
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           server.New(cfg.ServiceName),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       60 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	logger.Info("listening", "addr", ln.Addr().String(), "service", cfg.ServiceName,
		"version", server.Version, "revision", server.Revision(), "config", cfgPath)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	stop() // a second signal terminates immediately

	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	logger.Info("stopped")
	return nil
}
