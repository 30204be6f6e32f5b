// hal9-health evaluates an Argo CD health script on objects, as Argo CD would:
//
//	hal9-health <health.lua> <object.yaml|->...
//
// and prints one JSON line {"status":…,"message":…} per object.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	healthcheck "github.com/hal9/hal9/argocd/lua-test"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: hal9-health <health.lua> <object.yaml|->...")
		os.Exit(2)
	}
	script, err := os.ReadFile(os.Args[1])
	if err != nil {
		fail(err)
	}
	for _, path := range os.Args[2:] {
		var data []byte
		if path == "-" {
			data, err = io.ReadAll(os.Stdin)
		} else {
			data, err = os.ReadFile(path)
		}
		if err != nil {
			fail(err)
		}
		obj, err := healthcheck.ParseObject(data)
		if err != nil {
			fail(fmt.Errorf("%s: %w", path, err))
		}
		status, err := healthcheck.Evaluate(string(script), obj)
		if err != nil {
			fail(fmt.Errorf("%s: %w", path, err))
		}
		line, _ := json.Marshal(status)
		fmt.Println(string(line))
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
