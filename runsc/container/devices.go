package container

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func i64(v int64) *int64 { return &v }

// defaultAllowedDevices are always allowed in a container's device cgroup,
// after the spec's own rules, as runc does: the devices of a minimal /dev
// (null, zero, full, random, urandom, tty, console, ptmx and the pts),
// mknod of any device (creating it does not grant access to it) and tun.
var defaultAllowedDevices = []specs.LinuxDeviceCgroup{
	{Allow: true, Type: "c", Access: "m"},
	{Allow: true, Type: "b", Access: "m"},
	{Allow: true, Type: "c", Major: i64(1), Minor: i64(3), Access: "rwm"},
	{Allow: true, Type: "c", Major: i64(1), Minor: i64(8), Access: "rwm"},
	{Allow: true, Type: "c", Major: i64(1), Minor: i64(7), Access: "rwm"},
	{Allow: true, Type: "c", Major: i64(5), Minor: i64(0), Access: "rwm"},
	{Allow: true, Type: "c", Major: i64(1), Minor: i64(5), Access: "rwm"},
	{Allow: true, Type: "c", Major: i64(1), Minor: i64(9), Access: "rwm"},
	{Allow: true, Type: "c", Major: i64(5), Minor: i64(1), Access: "rwm"},
	{Allow: true, Type: "c", Major: i64(136), Access: "rwm"},
	{Allow: true, Type: "c", Major: i64(5), Minor: i64(2), Access: "rwm"},
	{Allow: true, Type: "c", Major: i64(10), Minor: i64(200), Access: "rwm"},
}

// deviceRules returns the device cgroup rules of a container: the spec's,
// then an allow rule for each device of linux.devices, then the defaults.
func deviceRules(spec *specs.Spec) []specs.LinuxDeviceCgroup {
	var rules []specs.LinuxDeviceCgroup
	if spec.Linux == nil {
		return nil
	}
	if spec.Linux.Resources != nil {
		rules = append(rules, spec.Linux.Resources.Devices...)
	}
	for _, d := range spec.Linux.Devices {
		// As runc: a fifo needs no device rule, and "u" (unbuffered char)
		// is a char device to the cgroup.
		t := d.Type
		switch t {
		case "p":
			continue
		case "u":
			t = "c"
		}
		rules = append(rules, specs.LinuxDeviceCgroup{Allow: true, Type: t, Major: i64(d.Major), Minor: i64(d.Minor), Access: "rwm"})
	}
	return append(rules, defaultAllowedDevices...)
}
