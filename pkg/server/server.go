// Package server implements the dance-lessons-coach HTTP API.
package server

import (
	_ "embed" // for the OpenAPI document
	"encoding/json"
	"net/http"
	"runtime/debug"
	"strconv"
)

// Version is the release version reported by GET /healthz. It is "dev" for
// local builds and is meant to be set at link time:
//
//	go build -ldflags "-X github.com/arcodange/dance-lessons-coach/pkg/server.Version=1.0.0" ./cmd/server
var Version = "dev"

// openAPIDoc is the OpenAPI document produced by go generate (see generate.go).
//
//go:embed openapi.json
var openAPIDoc []byte

// Lesson is a dance lesson offered by the coach.
type Lesson struct {
	ID              int    `json:"id"`
	Title           string `json:"title"`
	Style           string `json:"style"`
	Level           string `json:"level"` // beginner, intermediate or advanced
	DurationMinutes int    `json:"duration_minutes"`
}

// Health is the body of a GET /healthz response.
type Health struct {
	Status   string `json:"status"`
	Service  string `json:"service"`
	Version  string `json:"version"`
	Revision string `json:"revision,omitempty"`
}

// errorBody is the body of every JSON error response.
type errorBody struct {
	Error string `json:"error"`
}

// lessons is the in-memory lesson catalogue, ordered by ID.
var lessons = []Lesson{
	{ID: 1, Title: "Salsa Basics: The Basic Step", Style: "salsa", Level: "beginner", DurationMinutes: 45},
	{ID: 2, Title: "Bachata Body Waves", Style: "bachata", Level: "intermediate", DurationMinutes: 60},
	{ID: 3, Title: "West Coast Swing: Sugar Push", Style: "west-coast-swing", Level: "beginner", DurationMinutes: 50},
	{ID: 4, Title: "Argentine Tango: Ochos", Style: "tango", Level: "advanced", DurationMinutes: 75},
}

type server struct {
	name     string
	revision string
}

// New returns the HTTP handler of the service; serviceName is reported by
// GET /healthz.
func New(serviceName string) http.Handler {
	s := &server{name: serviceName, revision: Revision()}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.health)
	mux.HandleFunc("GET /api/v1/lessons", s.listLessons)
	mux.HandleFunc("GET /api/v1/lessons/{id}", s.getLesson)
	mux.HandleFunc("GET /openapi.json", s.openAPI)
	return mux
}

func (s *server) health(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, Health{Status: "ok", Service: s.name, Version: Version, Revision: s.revision})
}

func (s *server) listLessons(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, lessons)
}

func (s *server) getLesson(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.Atoi(r.PathValue("id"))
	if err == nil {
		for _, l := range lessons {
			if l.ID == id {
				writeJSON(w, http.StatusOK, l)
				return
			}
		}
	}
	writeJSON(w, http.StatusNotFound, errorBody{Error: "lesson not found"})
}

func (s *server) openAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(openAPIDoc)
}

// writeJSON writes v as a JSON response with the given status code.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	// The status line is already sent, so an encoding or write error (the
	// client went away) cannot be reported to the client anyway.
	_ = json.NewEncoder(w).Encode(v)
}

// Revision returns the VCS revision the running binary was built from, as
// stamped by the Go toolchain, with a "-dirty" suffix if the working tree had
// local changes. It is empty when unknown (tests, -buildvcs=false, builds
// outside a repository).
func Revision() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	return revisionFrom(info)
}

func revisionFrom(info *debug.BuildInfo) string {
	var rev string
	var dirty bool
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev != "" && dirty {
		rev += "-dirty"
	}
	return rev
}
