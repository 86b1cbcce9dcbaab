//go:build !linux

package main

import "errors"

func pinCPUs(int) error { return errors.New("-pin works on Linux only") }
