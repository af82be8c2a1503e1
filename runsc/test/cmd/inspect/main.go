// Command inspect is a small static test program that the root tests copy
// into a container's rootfs: it prints what the container's process sees
// of itself, as one JSON object, or the outcome of a few syscalls that
// busybox cannot report (it ignores uname's errors, for one).
//
//	inspect                 JSON: ids, groups, umask, cwd, hostname,
//	                        ioprio, personality, and the text of
//	                        /proc/self/status, limits, mountinfo, uid_map
//	                        and gid_map
//	inspect uname           "ok <machine>" or "errno <n>"
//	inspect mkdir <path>    "ok" or "errno <n>"
//	inspect getpid          "ok <pid>" or "errno <n>"
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// report is what inspect prints without arguments.
type report struct {
	UID         int      `json:"uid"`
	EUID        int      `json:"euid"`
	GID         int      `json:"gid"`
	EGID        int      `json:"egid"`
	Groups      []int    `json:"groups"`
	Umask       int      `json:"umask"`
	Cwd         string   `json:"cwd"`
	Hostname    string   `json:"hostname"`
	Domainname  string   `json:"domainname"`
	IOPrio      int      `json:"ioprio"`
	Personality int      `json:"personality"`
	Env         []string `json:"env"`
	Status      string   `json:"status"`
	Limits      string   `json:"limits"`
	Mountinfo   string   `json:"mountinfo"`
	UIDMap      string   `json:"uidMap"`
	GIDMap      string   `json:"gidMap"`
}

// ioprioWhoProcess is IOPRIO_WHO_PROCESS for ioprio_get(2).
const ioprioWhoProcess = 1

func main() {
	if len(os.Args) > 1 {
		fmt.Println(call(os.Args[1], os.Args[2:]))
		return
	}
	r := report{UID: unix.Getuid(), EUID: unix.Geteuid(), GID: unix.Getgid(), EGID: unix.Getegid(), Env: os.Environ()}
	r.Groups, _ = unix.Getgroups()
	if r.Groups == nil {
		r.Groups = []int{}
	}
	r.Umask = unix.Umask(0)
	unix.Umask(r.Umask)
	r.Cwd, _ = os.Getwd()
	var uts unix.Utsname
	if unix.Uname(&uts) == nil {
		r.Hostname = unix.ByteSliceToString(uts.Nodename[:])
		r.Domainname = unix.ByteSliceToString(uts.Domainname[:])
	}
	prio, _, _ := unix.Syscall(unix.SYS_IOPRIO_GET, ioprioWhoProcess, 0, 0)
	r.IOPrio = int(prio)
	persona, _, _ := unix.Syscall(unix.SYS_PERSONALITY, 0xffffffff, 0, 0)
	r.Personality = int(persona)
	for _, f := range []struct {
		dst  *string
		path string
	}{
		{&r.Status, "/proc/self/status"}, {&r.Limits, "/proc/self/limits"},
		{&r.Mountinfo, "/proc/self/mountinfo"}, {&r.UIDMap, "/proc/self/uid_map"},
		{&r.GIDMap, "/proc/self/gid_map"},
	} {
		b, err := os.ReadFile(f.path)
		if err != nil {
			*f.dst = "error: " + err.Error()
			continue
		}
		*f.dst = string(b)
	}
	enc := json.NewEncoder(os.Stdout)
	if err := enc.Encode(&r); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// call makes one syscall and describes its outcome.
func call(name string, args []string) string {
	var err error
	var out string
	switch name {
	case "uname":
		var uts unix.Utsname
		err = unix.Uname(&uts)
		out = unix.ByteSliceToString(uts.Machine[:])
	case "mkdir":
		if len(args) != 1 {
			return "usage: inspect mkdir <path>"
		}
		err = unix.Mkdir(args[0], 0o755)
	case "getpid":
		out = fmt.Sprint(unix.Getpid())
	default:
		return "unknown call " + name
	}
	if errno, ok := err.(unix.Errno); ok {
		return fmt.Sprintf("errno %d", int(errno))
	}
	if err != nil {
		return "error " + err.Error()
	}
	return strings.TrimSpace("ok " + out)
}
