//go:build !linux

package main

import (
	"errors"
	"os/exec"
)

func pinCPUs(int) error { return errors.New("-pin works on Linux only") }

func dieWithParent(*exec.Cmd) {}
