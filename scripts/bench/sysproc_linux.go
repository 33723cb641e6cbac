package main

import "syscall"

// sysProcAttr puts a child in its own process group, so that the harness alone decides when it
// stops (a Ctrl-C reaches the harness, which then stops the group), and has the kernel kill it
// if the harness dies first.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
