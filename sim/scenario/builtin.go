package scenario

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
)

//go:embed builtin/*.yaml
var builtinFS embed.FS

// Builtins returns the names of the built-in scenarios, sorted.
func Builtins() []string {
	entries, _ := fs.ReadDir(builtinFS, "builtin")
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	slices.Sort(names)
	return names
}

// Builtin returns the built-in scenario name.
func Builtin(name string) (*Scenario, error) {
	data, err := builtinFS.ReadFile(path.Join("builtin", name+".yaml"))
	if err != nil {
		return nil, fmt.Errorf("no built-in scenario %q (built in: %s)", name, strings.Join(Builtins(), ", "))
	}
	return Parse("builtin/"+name+".yaml", data)
}

// Load returns the built-in scenario called nameOrFile, or else parses the
// file at that path.
func Load(nameOrFile string) (*Scenario, error) {
	if slices.Contains(Builtins(), nameOrFile) {
		return Builtin(nameOrFile)
	}
	if _, err := os.Stat(nameOrFile); err != nil {
		return nil, fmt.Errorf("scenario %q is neither built in (%s) nor a readable file: %w",
			nameOrFile, strings.Join(Builtins(), ", "), err)
	}
	return ParseFile(nameOrFile)
}
