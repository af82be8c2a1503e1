package specutils

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// personality(2) personas (include/uapi/linux/personality.h).
const (
	perLinux   = 0x0000
	perLinux32 = 0x0008
)

// Personality returns the personality(2) persona for p.
func Personality(p *specs.LinuxPersonality) (uintptr, error) {
	if len(p.Flags) > 0 {
		return 0, fmt.Errorf("linux.personality.flags: %q: no flags are defined", p.Flags)
	}
	switch p.Domain {
	case specs.PerLinux:
		return perLinux, nil
	case specs.PerLinux32:
		return perLinux32, nil
	}
	return 0, fmt.Errorf("linux.personality.domain: %q is unknown", p.Domain)
}

// ioprio_set(2) constants.
const (
	ioprioWhoProcess = 1
	ioprioClassShift = 13
)

// IOPriority returns the ioprio_set(2) value for p.
func IOPriority(p *specs.LinuxIOPriority) (int, error) {
	var class int
	switch p.Class {
	case specs.IOPRIO_CLASS_RT:
		class = 1
	case specs.IOPRIO_CLASS_BE:
		class = 2
	case specs.IOPRIO_CLASS_IDLE:
		class = 3
	default:
		return 0, fmt.Errorf("process.ioPriority.class: %q is unknown", p.Class)
	}
	if p.Priority < 0 || p.Priority > 7 {
		return 0, fmt.Errorf("process.ioPriority.priority: %d is outside 0..7", p.Priority)
	}
	return class<<ioprioClassShift | p.Priority, nil
}

// SetIOPriority applies p to the calling process.
func SetIOPriority(p *specs.LinuxIOPriority) error {
	v, err := IOPriority(p)
	if err != nil {
		return err
	}
	if _, _, errno := unix.Syscall(unix.SYS_IOPRIO_SET, ioprioWhoProcess, 0, uintptr(v)); errno != 0 {
		return fmt.Errorf("process.ioPriority: %w", errno)
	}
	return nil
}

var schedPolicies = map[specs.LinuxSchedulerPolicy]uint32{
	specs.SchedOther:    unix.SCHED_NORMAL,
	specs.SchedFIFO:     unix.SCHED_FIFO,
	specs.SchedRR:       unix.SCHED_RR,
	specs.SchedBatch:    unix.SCHED_BATCH,
	specs.SchedIdle:     unix.SCHED_IDLE,
	specs.SchedDeadline: unix.SCHED_DEADLINE,
}

var schedFlags = map[specs.LinuxSchedulerFlag]uint64{
	specs.SchedFlagResetOnFork:  unix.SCHED_FLAG_RESET_ON_FORK,
	specs.SchedFlagReclaim:      unix.SCHED_FLAG_RECLAIM,
	specs.SchedFlagDLOverrun:    unix.SCHED_FLAG_DL_OVERRUN,
	specs.SchedFlagKeepPolicy:   unix.SCHED_FLAG_KEEP_POLICY,
	specs.SchedFlagKeepParams:   unix.SCHED_FLAG_KEEP_PARAMS,
	specs.SchedFlagUtilClampMin: unix.SCHED_FLAG_UTIL_CLAMP_MIN,
	specs.SchedFlagUtilClampMax: unix.SCHED_FLAG_UTIL_CLAMP_MAX,
}

// SchedAttr returns the sched_setattr(2) attributes for s.
func SchedAttr(s *specs.Scheduler) (*unix.SchedAttr, error) {
	policy, ok := schedPolicies[s.Policy]
	if !ok {
		return nil, fmt.Errorf("process.scheduler.policy: %q is unknown or unsupported", s.Policy)
	}
	attr := &unix.SchedAttr{
		Size:     unix.SizeofSchedAttr,
		Policy:   policy,
		Nice:     s.Nice,
		Priority: uint32(s.Priority),
		Runtime:  s.Runtime,
		Deadline: s.Deadline,
		Period:   s.Period,
	}
	for _, f := range s.Flags {
		v, ok := schedFlags[f]
		if !ok {
			return nil, fmt.Errorf("process.scheduler.flags: %q is unknown", f)
		}
		attr.Flags |= v
	}
	return attr, nil
}
