package healthcheck

import (
	"os"
	"path/filepath"
	"testing"

	"sigs.k8s.io/yaml"
)

// The format of Argo CD's resource_customizations/<group>/<Kind>/health_test.yaml.
type healthTests struct {
	Tests []struct {
		InputPath    string `json:"inputPath"`
		HealthStatus Status `json:"healthStatus"`
	} `json:"tests"`
}

// Runs every health_test.yaml under ../health against its health.lua, like Argo CD's TestLuaHealthScript.
func TestHealthScripts(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "health", "*", "*", "health_test.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no health_test.yaml under ../health")
	}
	for _, file := range files {
		dir := filepath.Dir(file)
		script, err := os.ReadFile(filepath.Join(dir, "health.lua"))
		if err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var tests healthTests
		if err := yaml.UnmarshalStrict(data, &tests); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if len(tests.Tests) == 0 {
			t.Fatalf("%s has no tests", file)
		}
		kind, _ := filepath.Rel(filepath.Join("..", "health"), dir)
		for _, tc := range tests.Tests {
			t.Run(kind+"/"+tc.InputPath, func(t *testing.T) {
				obj, err := LoadObject(filepath.Join(dir, tc.InputPath))
				if err != nil {
					t.Fatal(err)
				}
				got, err := Evaluate(string(script), obj)
				if err != nil {
					t.Fatal(err)
				}
				if got != tc.HealthStatus {
					t.Errorf("got %+v, want %+v", got, tc.HealthStatus)
				}
			})
		}
	}
}

// Argo CD runs health scripts without the string library, so a script using it must fail here too.
func TestStringLibraryIsClosed(t *testing.T) {
	_, err := Evaluate(`return { status = string.lower("Healthy") }`, map[string]any{})
	if err == nil {
		t.Fatal("string library is open; Argo CD would fail this script")
	}
}

func TestInvalidStatusBecomesUnknown(t *testing.T) {
	got, err := Evaluate(`return { status = "Fine" }`, map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != "Unknown" {
		t.Fatalf("got %+v", got)
	}
}
