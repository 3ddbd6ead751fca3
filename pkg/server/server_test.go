package server

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"reflect"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// get sends GET path to h and checks the status code and JSON content type.
func get(t *testing.T, h http.Handler, path string, wantStatus int) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	if rec.Code != wantStatus {
		t.Fatalf("GET %s: status %d, want %d; body: %s", path, rec.Code, wantStatus, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); wantStatus != http.StatusMethodNotAllowed && ct != "application/json" {
		t.Errorf("GET %s: Content-Type %q, want application/json", path, ct)
	}
	return rec
}

// decode unmarshals the recorded body into a new T.
func decode[T any](t *testing.T, rec *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("decoding %q: %v", rec.Body, err)
	}
	return v
}

func TestHealthz(t *testing.T) {
	old := Version
	Version = "1.2.3"
	t.Cleanup(func() { Version = old })

	rec := get(t, New("test-coach"), "/healthz", http.StatusOK)
	got := decode[map[string]string](t, rec)
	want := map[string]string{"status": "ok", "service": "test-coach", "version": "1.2.3"}
	if rev := Revision(); rev != "" {
		want["revision"] = rev
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("GET /healthz = %v, want %v", got, want)
	}
}

func TestListLessons(t *testing.T) {
	rec := get(t, New("x"), "/api/v1/lessons", http.StatusOK)
	got := decode[[]Lesson](t, rec)
	if !reflect.DeepEqual(got, lessons) {
		t.Errorf("GET /api/v1/lessons = %+v, want %+v", got, lessons)
	}
	// Check the wire format, not just the round trip.
	if !strings.Contains(rec.Body.String(), `"duration_minutes":45`) {
		t.Errorf("body %s lacks duration_minutes field", rec.Body)
	}
}

func TestGetLesson(t *testing.T) {
	h := New("x")
	for _, want := range lessons {
		path := "/api/v1/lessons/" + strconv.Itoa(want.ID)
		if got := decode[Lesson](t, get(t, h, path, http.StatusOK)); got != want {
			t.Errorf("GET %s = %+v, want %+v", path, got, want)
		}
	}
}

func TestGetLessonNotFound(t *testing.T) {
	h := New("x")
	for _, id := range []string{"0", "999", "-1", "abc", "1.5", "99999999999999999999"} {
		rec := get(t, h, "/api/v1/lessons/"+id, http.StatusNotFound)
		if got := decode[errorBody](t, rec); got.Error != "lesson not found" {
			t.Errorf("GET /api/v1/lessons/%s: error %q", id, got.Error)
		}
	}
}

func TestRouting(t *testing.T) {
	h := New("x")
	tests := []struct {
		method, path string
		want         int
	}{
		{http.MethodGet, "/", http.StatusNotFound},
		{http.MethodGet, "/api/v1/lessons/1/extra", http.StatusNotFound},
		{http.MethodPost, "/api/v1/lessons", http.StatusMethodNotAllowed},
		{http.MethodDelete, "/api/v1/lessons/1", http.StatusMethodNotAllowed},
		{http.MethodHead, "/healthz", http.StatusOK},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
		if rec.Code != tt.want {
			t.Errorf("%s %s: status %d, want %d", tt.method, tt.path, rec.Code, tt.want)
		}
	}
}

// TestOverHTTP exercises the handler through a real HTTP server.
func TestOverHTTP(t *testing.T) {
	srv := httptest.NewServer(New("x"))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + "/api/v1/lessons/2")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got Lesson
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || got != lessons[1] {
		t.Errorf("GET /api/v1/lessons/2 = %d %+v, want 200 %+v", resp.StatusCode, got, lessons[1])
	}
}

// openAPI is the subset of the OpenAPI document the tests look at.
type openAPI struct {
	OpenAPI    string                    `json:"openapi"`
	Paths      map[string]map[string]any `json:"paths"`
	Components struct {
		Schemas map[string]struct {
			Required   []string       `json:"required"`
			Properties map[string]any `json:"properties"`
		} `json:"schemas"`
	} `json:"components"`
}

func TestOpenAPI(t *testing.T) {
	rec := get(t, New("x"), "/openapi.json", http.StatusOK)
	if !bytes.Equal(rec.Body.Bytes(), openAPIDoc) {
		t.Error("GET /openapi.json does not serve the embedded document")
	}
	doc := decode[openAPI](t, rec)
	if !strings.HasPrefix(doc.OpenAPI, "3.0.") {
		t.Errorf("openapi = %q, want 3.0.x", doc.OpenAPI)
	}

	var paths []string
	for p, ops := range doc.Paths {
		paths = append(paths, p)
		if _, ok := ops["get"]; !ok || len(ops) != 1 {
			t.Errorf("path %s: operations %v, want only get", p, ops)
		}
	}
	slices.Sort(paths)
	want := []string{"/api/v1/lessons", "/api/v1/lessons/{id}", "/healthz"}
	if !slices.Equal(paths, want) {
		t.Errorf("paths = %v, want %v", paths, want)
	}

	// The schemas must describe the JSON the handlers actually produce.
	for name, typ := range map[string]reflect.Type{
		"Lesson": reflect.TypeOf(Lesson{}),
		"Health": reflect.TypeOf(Health{}),
		"Error":  reflect.TypeOf(errorBody{}),
	} {
		schema, ok := doc.Components.Schemas[name]
		if !ok {
			t.Errorf("schema %s missing", name)
			continue
		}
		var props, required []string
		for p := range schema.Properties {
			props = append(props, p)
		}
		slices.Sort(props)
		fields, optional := jsonFields(typ)
		if !slices.Equal(props, fields) {
			t.Errorf("schema %s properties = %v, want %v", name, props, fields)
		}
		for _, f := range fields {
			if !slices.Contains(optional, f) {
				required = append(required, f)
			}
		}
		slices.Sort(schema.Required)
		if !slices.Equal(schema.Required, required) {
			t.Errorf("schema %s required = %v, want %v", name, schema.Required, required)
		}
	}
}

// TestOpenAPIUpToDate checks that the committed openapi.json is what the
// generator currently produces.
func TestOpenAPIUpToDate(t *testing.T) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command must be on PATH to check the generated file: %v", err)
	}
	out, err := exec.Command(goCmd, "run", "./internal/openapigen", "-o", "-").Output()
	if err != nil {
		t.Fatalf("running generator: %v", err)
	}
	if !bytes.Equal(out, openAPIDoc) {
		t.Error("openapi.json is stale; run go generate ./pkg/server")
	}
}

func TestRevisionFrom(t *testing.T) {
	setting := func(kv ...string) *debug.BuildInfo {
		info := &debug.BuildInfo{}
		for i := 0; i < len(kv); i += 2 {
			info.Settings = append(info.Settings, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return info
	}
	tests := []struct {
		info *debug.BuildInfo
		want string
	}{
		{setting(), ""},
		{setting("vcs.modified", "true"), ""},
		{setting("vcs.revision", "abc123", "vcs.modified", "false"), "abc123"},
		{setting("vcs", "git", "vcs.revision", "abc123", "vcs.modified", "true"), "abc123-dirty"},
	}
	for _, tt := range tests {
		if got := revisionFrom(tt.info); got != tt.want {
			t.Errorf("revisionFrom(%v) = %q, want %q", tt.info.Settings, got, tt.want)
		}
	}
}

// jsonFields returns the sorted JSON field names of struct type typ and
// those marked omitempty.
func jsonFields(typ reflect.Type) (fields, optional []string) {
	for i := range typ.NumField() {
		name, opts, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
		fields = append(fields, name)
		if opts == "omitempty" {
			optional = append(optional, name)
		}
	}
	slices.Sort(fields)
	return fields, optional
}
