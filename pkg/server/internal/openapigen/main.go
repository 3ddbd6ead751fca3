// Command openapigen writes the OpenAPI 3.0 document describing the
// dance-lessons-coach HTTP API. It is run by go generate in package server:
//
//	go generate ./pkg/server
//
// The output is deterministic (object keys sorted, two-space indentation,
// trailing newline). It is written to a temporary file in the destination
// directory and then renamed, so an interrupted run never leaves a
// half-written document behind.
//
// Usage:
//
//	openapigen [-o file]
//
// With -o - the document is written to standard output, which allows
// checking that the committed file is up to date.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// apiVersion is the version of the API contract (info.version).
const apiVersion = "1.0.0"

// object is a JSON object; encoding/json marshals map keys in sorted order,
// which keeps the output deterministic.
type object = map[string]any

func main() {
	out := flag.String("o", "openapi.json", "output `file`, or - for standard output")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: openapigen [-o file]")
		os.Exit(2)
	}
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "openapigen:", err)
		os.Exit(1)
	}
}

func run(out string) error {
	data, err := json.MarshalIndent(document(), "", "  ")
	if err != nil {
		return err
	}
	data = append(data, '\n')
	if out == "-" {
		_, err = os.Stdout.Write(data)
		return err
	}
	return writeFileAtomic(out, data, 0o644)
}

// document returns the OpenAPI document. Keep it in sync with package server;
// the server tests check the paths and the Lesson schema against the code.
func document() object {
	return object{
		"openapi": "3.0.3",
		"info": object{
			"title":       "dance-lessons-coach API",
			"description": "Browse the dance lessons offered by the coach.",
			"version":     apiVersion,
		},
		"paths": object{
			"/healthz": object{
				"get": object{
					"operationId": "getHealth",
					"summary":     "Report service health and version",
					"tags":        []string{"health"},
					"responses": object{
						"200": jsonResponse("The service is healthy.", ref("Health")),
					},
				},
			},
			"/api/v1/lessons": object{
				"get": object{
					"operationId": "listLessons",
					"summary":     "List all lessons",
					"tags":        []string{"lessons"},
					"responses": object{
						"200": jsonResponse("All lessons, ordered by id.", object{
							"type":  "array",
							"items": ref("Lesson"),
						}),
					},
				},
			},
			"/api/v1/lessons/{id}": object{
				"get": object{
					"operationId": "getLesson",
					"summary":     "Get one lesson",
					"tags":        []string{"lessons"},
					"parameters": []object{{
						"name":        "id",
						"in":          "path",
						"required":    true,
						"description": "Lesson id.",
						"schema":      object{"type": "integer", "format": "int64"},
					}},
					"responses": object{
						"200": jsonResponse("The lesson.", ref("Lesson")),
						"404": jsonResponse("No lesson has this id.", ref("Error")),
					},
				},
			},
		},
		"components": object{
			"schemas": object{
				"Health": object{
					"type":     "object",
					"required": []string{"status", "service", "version"},
					"properties": object{
						"status":   object{"type": "string", "enum": []string{"ok"}},
						"service":  object{"type": "string", "example": "dance-lessons-coach"},
						"version":  object{"type": "string", "example": "1.0.0"},
						"revision": object{"type": "string", "description": "VCS revision of the build, when known."},
					},
				},
				"Lesson": object{
					"type":     "object",
					"required": []string{"id", "title", "style", "level", "duration_minutes"},
					"properties": object{
						"id":               object{"type": "integer", "format": "int64", "example": 1},
						"title":            object{"type": "string", "example": "Salsa Basics: The Basic Step"},
						"style":            object{"type": "string", "example": "salsa"},
						"level":            object{"type": "string", "enum": []string{"beginner", "intermediate", "advanced"}},
						"duration_minutes": object{"type": "integer", "minimum": 1, "example": 45},
					},
				},
				"Error": object{
					"type":     "object",
					"required": []string{"error"},
					"properties": object{
						"error": object{"type": "string", "example": "lesson not found"},
					},
				},
			},
		},
	}
}

// ref returns a reference to the named component schema.
func ref(name string) object {
	return object{"$ref": "#/components/schemas/" + name}
}

// jsonResponse returns a response object with an application/json body.
func jsonResponse(description string, schema object) object {
	return object{
		"description": description,
		"content":     object{"application/json": object{"schema": schema}},
	}
}

// writeFileAtomic writes data to a temporary file next to name and renames it
// over name, so readers see either the old or the new content, never a mix.
func writeFileAtomic(name string, data []byte, perm fs.FileMode) (err error) {
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".tmp*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Chmod(perm); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), name)
}
