// Package config loads the service configuration from a tiny subset of YAML:
// one flat "key: value" pair per line, with blank lines and "#" comments
// allowed. Values may be bare, 'single-quoted' or "double-quoted"; escape
// sequences, nesting, lists and multi-line values are not supported.
package config

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
)

// Default values used for keys absent from the configuration.
const (
	DefaultListen      = ":8080"
	DefaultServiceName = "dance-lessons-coach"
)

// Config is the server configuration.
type Config struct {
	// Listen is the TCP address the HTTP server binds to (key "listen").
	Listen string
	// ServiceName is the name reported by the health endpoint (key "service_name").
	ServiceName string
}

// Default returns the configuration used when no file is present.
func Default() Config {
	return Config{Listen: DefaultListen, ServiceName: DefaultServiceName}
}

// Load reads the configuration file at path. A missing file is not an error:
// the defaults are returned instead.
func Load(path string) (Config, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Default(), nil
	}
	if err != nil {
		return Config{}, err
	}
	defer f.Close()

	cfg, err := Parse(f)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// Parse reads a configuration from r. Keys that are not present keep their
// default value. Unknown or duplicate keys, indented lines, lines without a
// colon and empty values are errors.
func Parse(r io.Reader) (Config, error) {
	cfg := Default()
	seen := make(map[string]bool)
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if n == 1 {
			line = strings.TrimPrefix(line, "\uFEFF") // byte order mark
		}
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			return Config{}, fmt.Errorf("line %d: indented (nested) values are not supported", n)
		}
		key, raw, ok := strings.Cut(trimmed, ":")
		key = strings.TrimSpace(key)
		if !ok || key == "" {
			return Config{}, fmt.Errorf("line %d: expected \"key: value\"", n)
		}
		val, err := parseValue(raw)
		if err != nil {
			return Config{}, fmt.Errorf("line %d: %s: %w", n, key, err)
		}
		if seen[key] {
			return Config{}, fmt.Errorf("line %d: duplicate key %q", n, key)
		}
		seen[key] = true

		switch key {
		case "listen":
			cfg.Listen = val
		case "service_name":
			cfg.ServiceName = val
		default:
			return Config{}, fmt.Errorf("line %d: unknown key %q", n, key)
		}
	}
	if err := sc.Err(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// parseValue returns the scalar in raw (the text after the colon), removing
// surrounding quotes or a trailing " # comment".
func parseValue(raw string) (string, error) {
	s := strings.TrimSpace(raw)
	var val, rest string
	switch {
	case s == "" || s[0] == '#':
		return "", errors.New("empty value")
	case s[0] == '"' || s[0] == '\'':
		end := strings.IndexByte(s[1:], s[0])
		if end < 0 {
			return "", errors.New("unterminated quoted value")
		}
		val, rest = s[1:1+end], strings.TrimSpace(s[2+end:])
		if rest != "" && rest[0] != '#' {
			return "", fmt.Errorf("unexpected text %q after quoted value", rest)
		}
	default:
		val = s
		// In YAML a comment starts at a '#' preceded by whitespace.
		for i := 1; i < len(s); i++ {
			if s[i] == '#' && (s[i-1] == ' ' || s[i-1] == '\t') {
				val = strings.TrimSpace(s[:i])
				break
			}
		}
	}
	if val == "" {
		return "", errors.New("empty value")
	}
	return val, nil
}
