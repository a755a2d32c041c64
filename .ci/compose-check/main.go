// Validates a compose file the way `docker compose config -q` does, with the
// library docker compose itself loads files with (compose-spec/compose-go):
// schema, interpolation, and references between services.
//
// .ci/run uses it only where the docker client has no compose plugin (our CI
// machines), so that the file is still checked there.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/compose-spec/compose-go/v2/cli"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: compose-check FILE...")
		os.Exit(2)
	}
	if err := check(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func check(files []string) error {
	opts, err := cli.NewProjectOptions(files, cli.WithOsEnv, cli.WithDotEnv)
	if err != nil {
		return err
	}
	project, err := opts.LoadProject(context.Background())
	if err != nil {
		return err
	}
	fmt.Printf("compose file is valid: %d services\n", len(project.Services))
	return nil
}
