//go:build !linux

package main

import "syscall"

// sysProcAttr puts a child in its own process group, so that the harness alone decides when it
// stops.
func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
