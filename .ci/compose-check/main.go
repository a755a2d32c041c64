// Validates a compose file the way `docker compose config -q` does, with the
// library docker compose itself loads files with (compose-spec/compose-go):
// schema, interpolation, and references between services. It also refuses
// what `docker compose up` would only refuse when it starts a second replica:
// a service with several replicas and a container name or a fixed host port.
//
// .ci/run uses it only where the docker client has no compose plugin (our CI
// machines), so that the file is still checked there.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
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
	if err := replicasApart(project.Services); err != nil {
		return err
	}
	fmt.Printf("compose file is valid: %d services\n", len(project.Services))
	return nil
}

// replicasApart: replicas of one service share its definition, so a container
// name or a single host port in it would be claimed by each of them.
func replicasApart(services types.Services) error {
	var problems []error
	for name, s := range services {
		if s.GetScale() < 2 {
			continue
		}
		if s.ContainerName != "" {
			problems = append(problems, fmt.Errorf("service %s has %d replicas and container_name %q: they cannot all have it", name, s.GetScale(), s.ContainerName))
		}
		for _, p := range s.Ports {
			if p.Published != "" && !strings.Contains(p.Published, "-") {
				problems = append(problems, fmt.Errorf("service %s has %d replicas and publishes port %d on host port %s: only one can; leave the host port out", name, s.GetScale(), p.Target, p.Published))
			}
		}
	}
	return errors.Join(problems...)
}
