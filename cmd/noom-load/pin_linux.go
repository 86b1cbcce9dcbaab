//go:build linux

package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"
)

// pinCPUs puts the hub (every thread of process pid) on CPU 0 and this
// process, and the probe it starts later, on the others.
func pinCPUs(pid int) error {
	if runtime.NumCPU() < 2 {
		return fmt.Errorf("-pin needs at least 2 CPUs")
	}
	var hub, rest unix.CPUSet
	hub.Set(0)
	for i := 1; i < runtime.NumCPU(); i++ {
		rest.Set(i)
	}
	tids, err := threads(pid)
	if err != nil {
		return err
	}
	for _, t := range tids {
		if err := unix.SchedSetaffinity(t, &hub); err != nil {
			return fmt.Errorf("pin hub thread %d: %w", t, err)
		}
	}
	self, err := threads(unix.Getpid())
	if err != nil {
		return err
	}
	for _, t := range self {
		unix.SchedSetaffinity(t, &rest) // new threads inherit it
	}
	return nil
}

func threads(pid int) ([]int, error) {
	ents, err := readDirNames(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return nil, err
	}
	var out []int
	for _, e := range ents {
		var t int
		if _, err := fmt.Sscan(e, &t); err == nil {
			out = append(out, t)
		}
	}
	return out, nil
}

func readDirNames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}

// dieWithParent makes a child process get SIGTERM if noom-load dies first
// (killed, or its output pipe closed), so no hub is left behind.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
