package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  Config
	}{
		{"empty", "", Default()},
		{"comments and blanks only", "# comment\n\n   \n\t# indented comment\n", Default()},
		{
			"double quoted",
			"listen: \":9090\"\nservice_name: \"my coach\"\n",
			Config{Listen: ":9090", ServiceName: "my coach"},
		},
		{
			"single quoted with comment",
			"listen: '127.0.0.1:80' # local only\n",
			Config{Listen: "127.0.0.1:80", ServiceName: DefaultServiceName},
		},
		{
			"bare values, inline comment, CRLF, BOM",
			"\uFEFFlisten: :7000\r\nservice_name: coach  # name\r\n",
			Config{Listen: ":7000", ServiceName: "coach"},
		},
		{
			"hash inside bare and quoted values",
			"service_name: salsa#1\nlisten: \"# not a comment\"\n",
			Config{Listen: "# not a comment", ServiceName: "salsa#1"},
		},
		{
			"no trailing newline",
			"service_name: coach",
			Config{Listen: DefaultListen, ServiceName: "coach"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(strings.NewReader(tt.input))
			if err != nil {
				t.Fatalf("Parse: unexpected error: %v", err)
			}
			if got != tt.want {
				t.Errorf("Parse = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, input, wantErr string
	}{
		{"missing colon", "listen\n", "line 1: expected"},
		{"missing key", ": x\n", "line 1: expected"},
		{"empty value", "# c\nlisten:\n", "line 2: listen: empty value"},
		{"comment as value", "listen: # nothing\n", "empty value"},
		{"empty quoted value", "listen: \"\"\n", "empty value"},
		{"unterminated quote", "listen: \":80\n", "unterminated"},
		{"text after quote", "listen: \":80\" x\n", "unexpected text"},
		{"unknown key", "port: 80\n", `unknown key "port"`},
		{"duplicate key", "listen: :1\nlisten: :2\n", `line 2: duplicate key "listen"`},
		{"indented", "listen: :1\n  nested: x\n", "line 2: indented"},
		{"line too long", "listen: " + strings.Repeat("x", 70*1024) + "\n", "too long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tt.input))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Parse error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()

	t.Run("missing file uses defaults", func(t *testing.T) {
		got, err := Load(filepath.Join(dir, "nope.yaml"))
		if err != nil || got != Default() {
			t.Fatalf("Load = %+v, %v; want defaults, nil", got, err)
		}
	})

	t.Run("valid file", func(t *testing.T) {
		path := filepath.Join(dir, "ok.yaml")
		writeFile(t, path, "listen: :1234\n")
		got, err := Load(path)
		want := Config{Listen: ":1234", ServiceName: DefaultServiceName}
		if err != nil || got != want {
			t.Fatalf("Load = %+v, %v; want %+v, nil", got, err, want)
		}
	})

	t.Run("invalid file names the path", func(t *testing.T) {
		path := filepath.Join(dir, "bad.yaml")
		writeFile(t, path, "bogus: 1\n")
		_, err := Load(path)
		if err == nil || !strings.Contains(err.Error(), path) {
			t.Fatalf("Load error = %v, want it to mention %s", err, path)
		}
	})

	t.Run("unreadable path", func(t *testing.T) {
		// Opening a directory succeeds on some systems and fails on others;
		// either way reading it as a config must fail.
		if _, err := Load(dir); err == nil {
			t.Fatal("Load(directory): expected an error")
		}
	})

	t.Run("invalid path", func(t *testing.T) {
		if _, err := Load("bad\x00path"); err == nil {
			t.Fatal("Load(path with NUL): expected an error")
		}
	})
}

// TestRepositoryConfig checks that the config.yaml shipped at the repository
// root parses and matches the defaults it documents.
func TestRepositoryConfig(t *testing.T) {
	path := filepath.Join("..", "..", "config.yaml")
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err) // Load would silently fall back to the defaults
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != Default() {
		t.Errorf("config.yaml = %+v, want %+v", got, Default())
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
